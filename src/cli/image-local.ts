/** `mcumgr image info`, `verify`, `sign` and `keygen`: MCUboot image files on this computer, no device involved. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import {
  decryptImage,
  isEncryptedImage,
  formatVersion,
  generateKey,
  ihexToBinary,
  parseImage,
  parseVersion,
  tlvTypeName,
  verifyImage,
  type KeyType,
  type McubootImage,
} from '../image/node.js';
import { UsageError } from './connect.js';
import { readLocalFile } from './image-file.js';
import { registerSignCommand } from './image-sign.js';
import { toHex } from './format.js';

function load(path: string): { bytes: Uint8Array; image: McubootImage } {
  const bytes = readLocalFile(path);
  try {
    return { bytes, image: parseImage(bytes) };
  } catch (err) {
    throw new UsageError(`${path} is not a valid MCUboot image: ${(err as Error).message}`);
  }
}

function json(cmd: Command): boolean {
  return Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
}

function describe(image: McubootImage, bytes: Uint8Array) {
  const h = image.header;
  return {
    size: bytes.length,
    version: formatVersion(h.version),
    loadAddress: h.loadAddr,
    headerSize: h.hdrSize,
    protectedTlvSize: h.protectTlvSize,
    imageSize: h.imgSize,
    flags: h.flags,
    hash: image.hash ? toHex(image.hash) : undefined,
    tlvs: image.tlvs.map((t) => ({ type: t.type, name: tlvTypeName(t.type), length: t.value.length, protected: t.offset < image.unprotectedArea.offset })),
  };
}

export function registerLocalImageCommands(img: Command): void {
  img
    .command('info')
    .description('Show the header and TLVs of an MCUboot image file (no device needed)')
    .argument('<file>', 'MCUboot image (.bin)')
    .action((file: string, _o: unknown, cmd: Command) => {
      {
        const { bytes, image } = load(file);
        const d = describe(image, bytes);
        if (json(cmd)) {
          process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
          return;
        }
        let out = `${file}\n    version: ${d.version}\n    size: ${d.size} bytes (header ${d.headerSize}, image ${d.imageSize}, protected TLVs ${d.protectedTlvSize})\n`;
        out += `    load address: 0x${d.loadAddress.toString(16)}\n    flags: 0x${d.flags.toString(16)}\n    hash: ${d.hash ?? 'none'}\n    TLVs:\n`;
        for (const t of d.tlvs) out += `      0x${t.type.toString(16).padStart(2, '0')} ${t.name.padEnd(12)} ${String(t.length).padStart(4)} bytes${t.protected ? ' (protected)' : ''}\n`;
        process.stdout.write(out);
      }
    });
  img
    .command('verify')
    .description('Check the hash and signature of an MCUboot image file (no device needed)')
    .option('-k, --key <pem>', 'public or private key (PEM) to check the signature with')
    .option('--decrypt-key <pem>', 'private key (PEM) to decrypt an encrypted image with first, as MCUboot does')
    .argument('<file>', 'MCUboot image (.bin)')
    .action(async (file: string, o: { key?: string; decryptKey?: string }, cmd: Command) => {
      {
        const bytes = plaintextImage(file, readLocalFile(file), o.decryptKey);
        let key: string | undefined;
        if (o.key) {
          try {
            key = readFileSync(o.key, 'utf8');
          } catch {
            throw new UsageError(`cannot read the key file ${o.key}`);
          }
        }
        const r = await verifyImage(bytes, key ? { key } : {});
        const doc = {
          ok: r.ok,
          hash: r.computedHash ? toHex(r.computedHash) : undefined,
          hashOk: r.hashOk,
          signatureChecked: r.signatureChecked,
          signatureOk: r.signatureOk,
          keyMatch: r.keyMatch,
          error: r.error?.message,
        };
        if (json(cmd)) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        else if (r.ok) {
          process.stdout.write(`Image was correctly validated\n    hash: ${doc.hash}\n    signature: ${r.signatureChecked ? 'valid' : 'not checked (no key given and none in the image)'}\n` +
              (r.keyMatch !== undefined ? `    key match: ${r.keyMatch ? 'yes' : 'no'}\n` : ''));
        }
        if (!r.ok) {
          const encrypted = r.image && isEncryptedImage(r.image.header.flags) && !o.decryptKey;
          throw new Error((r.error?.message ?? 'the image is not valid') + (encrypted ? ' (the image is encrypted: give --decrypt-key PRIVATE.pem)' : ''));
        }
      }
    });

  registerSignCommand(img);
  img
    .command('keygen')
    .description('Generate an MCUboot signing key (PEM, PKCS#8) (no device needed)')
    .addOption(new Option('--type <type>', 'key type').choices(KEY_TYPES).makeOptionMandatory())
    .requiredOption('-k, --key <out.pem>', 'file to write the private key to')
    .action((o: { type: KeyType; key: string }, cmd: Command) => {
      const pem = generateKey(o.type);
      try {
        writeFileSync(o.key, pem, { mode: 0o600 });
      } catch (err) {
        throw new UsageError(`cannot write ${o.key}: ${(err as Error).message}`);
      }
      if (json(cmd)) process.stdout.write(`${JSON.stringify({ type: o.type, key: o.key }, null, 2)}\n`);
      else process.stdout.write(`Wrote ${o.type} private key to ${o.key}\n`);
    });
}

const KEY_TYPES: KeyType[] = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072'];

/** The image as MCUboot validates it: decrypted with `keyFile` when given. */
function plaintextImage(file: string, bytes: Uint8Array, keyFile: string | undefined): Uint8Array {
  if (keyFile === undefined) return bytes;
  try {
    return decryptImage(bytes, readKey(keyFile));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot decrypt ${file}: ${(err as Error).message}`);
  }
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the key file ${path}`);
  }
}
