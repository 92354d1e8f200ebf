/** `mcumgr image info`, `verify`, `sign` and `keygen`: MCUboot image files on this computer, no device involved. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import {
  createImage,
  formatVersion,
  generateKey,
  parseImage,
  parseVersion,
  tlvTypeName,
  verifyImage,
  type KeyType,
  type McubootImage,
} from '../image/node.js';
import { UsageError } from './connect.js';
import { binaryFromFile, readLocalFile } from './image-file.js';
import { toHex } from './format.js';

/** An image file, .bin or Intel HEX (as `image upload` takes them). */
function readImageFile(path: string): Uint8Array {
  return binaryFromFile(path, readLocalFile(path));
}

function load(path: string): { bytes: Uint8Array; image: McubootImage } {
  const bytes = readImageFile(path);
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
    .argument('<file>', 'MCUboot image (.bin or Intel HEX)')
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
    .argument('<file>', 'MCUboot image (.bin or Intel HEX)')
    .action(async (file: string, o: { key?: string }, cmd: Command) => {
      {
        const bytes = readImageFile(file);
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
        if (!r.ok) throw new UsageError(`${file} failed verification: ${r.error?.message ?? 'the image is not valid'}`);
      }
    });

  img
    .command('sign')
    .description('Build a signed MCUboot image from a raw .bin or Intel HEX payload, like `imgtool sign` (no device needed)')
    .option('-k, --key <pem>', 'private key (PEM); without it the image carries only a SHA-256 hash')
    .requiredOption('--image-version <ver>', 'image version, e.g. 1.2.3+4 (also accepted as --version)')
    .option('-H, --header-size <n>', 'header size (e.g. 0x200)', '0x20')
    .option('--pad-header', 'prepend the header space to the payload')
    .option('--align <n>', 'flash write alignment', '1')
    .option('-S, --slot-size <n>', 'slot size (needed with --pad/--confirm)')
    .option('--pad', 'pad to the slot size and write the trailer magic')
    .option('--confirm', 'mark the image confirmed (implies --pad)')
    .option('-s, --security-counter <n>', 'security counter (protected SEC_CNT TLV)')
    .addOption(new Option('--public-key-format <fmt>', 'embed the key hash or the full public key').choices(['hash', 'full']).default('hash'))
    .argument('<input>', 'payload: raw .bin or Intel HEX')
    .argument('<output>', 'signed image to write')
    .action((input: string, output: string, o: SignOpts, cmd: Command) => {
      const payload = readImageFile(input);
      try {
        parseVersion(o.imageVersion);
      } catch (err) {
        throw new UsageError(`invalid version "${o.imageVersion}": ${(err as Error).message} (e.g. 1.2.3+4)`);
      }
      const key = o.key ? readKey(o.key) : undefined;
      let bytes: Uint8Array;
      try {
        bytes = createImage(payload, {
          version: o.imageVersion,
          headerSize: num(o.headerSize, 'header size'),
          padHeader: Boolean(o.padHeader),
          align: num(o.align, 'alignment'),
          ...(o.slotSize !== undefined ? { slotSize: num(o.slotSize, 'slot size') } : {}),
          pad: Boolean(o.pad),
          confirm: Boolean(o.confirm),
          ...(o.securityCounter !== undefined ? { securityCounter: num(o.securityCounter, 'security counter') } : {}),
          ...(key !== undefined ? { key } : {}),
          publicKeyFormat: o.publicKeyFormat,
        });
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot sign ${input}: ${(err as Error).message}`);
      }
      try {
        writeFileSync(output, bytes);
      } catch (err) {
        throw new UsageError(`cannot write ${output}: ${(err as Error).message}`);
      }
      const image = parseImage(bytes);
      const doc = { output, size: bytes.length, version: formatVersion(image.header.version), hash: image.hash ? toHex(image.hash) : undefined, signed: Boolean(key) };
      if (json(cmd)) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      else process.stdout.write(`Wrote ${output}\n    version: ${doc.version}\n    size: ${doc.size} bytes\n    hash: ${doc.hash ?? 'none'}\n    signed: ${doc.signed ? 'yes' : 'no (hash only)'}\n`);
    });
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

interface SignOpts {
  key?: string;
  imageVersion: string;
  headerSize: string;
  padHeader?: boolean;
  align: string;
  slotSize?: string;
  pad?: boolean;
  confirm?: boolean;
  securityCounter?: string;
  publicKeyFormat: 'hash' | 'full';
}

function num(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`invalid ${what} "${text}" (a whole number, decimal or 0x hex)`);
  return n;
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the key file ${path}`);
  }
}
