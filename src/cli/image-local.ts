/** `mcumgr image info`, `verify`, `sign` and `keygen`: MCUboot image files on this computer, no device involved. */
import { Option, type Command } from 'commander';
import {
  decompressImage,
  decryptImage,
  imageFlagNames,
  isCompressedImage,
  isEncryptedImage,
  formatVersion,
  parseImage,
  tlvTypeName,
  parseTrailer,
  trailerOffsets,
  verifyImage,
  ImageError,
  type McubootImage,
  type VerifyResult,
} from '../image/node.js';
import { UsageError } from './connect.js';
import { binaryFromFile, readLocalFile, readTextFile } from './image-file.js';
import { registerSignCommand } from './image-sign.js';
import { registerKeyCommands } from './image-keys.js';
import { toHex } from './format.js';

/** An image file, .bin or Intel HEX (also imgtool's padded .hex, whose gap is erased flash). */
function imageBytes(path: string): Uint8Array {
  return binaryFromFile(path, readLocalFile(path), true);
}

function load(path: string): { bytes: Uint8Array; image: McubootImage } {
  const bytes = imageBytes(path);
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
    flagNames: imageFlagNames(h.flags),
    hash: image.hash ? toHex(image.hash) : undefined,
    tlvs: image.tlvs.map((t) => ({ type: t.type, name: tlvTypeName(t.type), length: t.value.length, protected: t.offset < image.unprotectedArea.offset })),
  };
}

/** imgtool dumpinfo's document (what its `-o FILE` writes as YAML): header, TLV areas, trailer of a padded image. */
function dumpinfo(image: McubootImage, bytes: Uint8Array) {
  const h = image.header;
  const area = (a: { magic: number; size: number }) => ({ magic: a.magic, tlv_tot: a.size });
  const tlvs = (list: McubootImage['tlvs']) => list.map((t) => ({ type: t.type, len: t.value.length, data: toHex(t.value) }));
  const v = h.version;
  const doc: Record<string, unknown> = {
    header: {
      magic: h.magic,
      load_addr: h.loadAddr,
      hdr_size: h.hdrSize,
      protected_tlv_size: h.protectTlvSize,
      img_size: h.imgSize,
      flags: h.flags,
      version: `${v.major}.${v.minor}.${v.revision}+${v.build}`,
    },
    tlv_area: {
      ...(image.protectedArea ? { tlv_hdr_prot: area(image.protectedArea), tlvs_prot: tlvs(image.protectedArea.tlvs) } : {}),
      tlv_hdr: area(image.unprotectedArea),
      tlvs: tlvs(image.unprotectedArea.tlvs),
    },
  };
  if (image.paddingSize >= 16 + 4 * 8) {
    const t = parseTrailer(bytes);
    const o = trailerOffsets(bytes.length);
    doc.trailer = {
      swap_size: t.swapSize,
      swap_info: t.swapInfo,
      copy_done: bytes[o.copyDone],
      image_ok: bytes[o.imageOk],
      boot_magic: toHex(bytes.subarray(o.magic, o.magic + 16)),
    };
  }
  return doc;
}

/** Numbers as they are; a string plain when YAML reads it back as that string (a word with a letter), else quoted. */
function yamlScalar(v: unknown): string {
  if (typeof v !== 'string') return String(v);
  return /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(v) && /[A-Za-z]/.test(v) && !/^(true|false|null|yes|no|on|off)$/i.test(v) ? v : JSON.stringify(v);
}

/** Block-style YAML of plain objects, arrays of objects, numbers and strings (as PyYAML's dump lays them out). */
function toYaml(value: unknown, indent = ''): string {
  let out = '';
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v)) {
      out += `${indent}${k}:${v.length === 0 ? ' []' : ''}\n`;
      for (const item of v) out += toYaml(item, `${indent}  `).replace(new RegExp(`^${indent}  `), `${indent}- `);
    } else if (typeof v === 'object' && v !== null) out += `${indent}${k}:\n${toYaml(v, `${indent}  `)}`;
    else out += `${indent}${k}: ${yamlScalar(v)}\n`;
  }
  return out;
}

export function registerLocalImageCommands(img: Command): void {
  img
    .command('info')
    .description('Show the header and TLVs of an MCUboot image file (no device needed)')
    .addOption(new Option('-f, --format <fmt>', "imgtool dumpinfo's fields, as JSON or YAML").choices(['json', 'yaml']))
    .argument('<file>', 'MCUboot image (.bin or Intel HEX)')
    .action((file: string, o: { format?: 'json' | 'yaml' }, cmd: Command) => {
      {
        const { bytes, image } = load(file);
        if (o.format) {
          const doc = dumpinfo(image, bytes);
          process.stdout.write(o.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc));
          return;
        }
        const d = describe(image, bytes);
        if (json(cmd)) {
          process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
          return;
        }
        let out = `${file}\n    version: ${d.version}\n    size: ${d.size} bytes (header ${d.headerSize}, image ${d.imageSize}, protected TLVs ${d.protectedTlvSize})\n`;
        out += `    load address: 0x${d.loadAddress.toString(16)}\n    flags: 0x${d.flags.toString(16)}${d.flagNames.length ? ` (${d.flagNames.join(', ')})` : ''}\n    hash: ${d.hash ?? 'none'}\n    TLVs:\n`;
        for (const t of d.tlvs)
          out += `      0x${t.type.toString(16).padStart(2, '0')} ${t.name.padEnd(12)} ${String(t.length).padStart(4)} bytes${t.protected ? ' (protected)' : ''}\n`;
        process.stdout.write(out);
      }
    });
  img
    .command('verify')
    .description('Check the hash and signature of an MCUboot image file (no device needed)')
    .option('-k, --key <pem>', 'public or private key (PEM) to check the signature with')
    .option('--decrypt-key <file>', 'private key (PEM) or raw AES key-wrap key to decrypt an encrypted image with first, as MCUboot does')
    .argument('<file>', 'MCUboot image (.bin or Intel HEX)')
    .action(async (file: string, o: { key?: string; decryptKey?: string }, cmd: Command) => {
      {
        const bytes = plaintextImage(file, imageBytes(file), o.decryptKey);
        const key = o.key ? readTextFile(o.key, 'key file') : undefined;
        const r = await verifyImage(bytes, key ? { key } : {});
        // A compressed image is also checked as MCUboot installs it: decompressed, against DECOMP_SHA and DECOMP_SIGNATURE.
        const unpacked = r.ok && r.image && isCompressedImage(r.image.header.flags) ? await decompressedCheck(bytes, key) : undefined;
        const doc = {
          ok: r.ok && (unpacked?.ok ?? true),
          hash: r.computedHash ? toHex(r.computedHash) : undefined,
          hashOk: r.hashOk,
          signatureChecked: r.signatureChecked,
          signatureOk: r.signatureOk,
          keyMatch: r.keyMatch,
          ...(unpacked
            ? {
                decompressed: {
                  hash: unpacked.computedHash ? toHex(unpacked.computedHash) : undefined,
                  hashOk: unpacked.hashOk,
                  signatureOk: unpacked.signatureOk,
                },
              }
            : {}),
          error: r.error?.message ?? unpacked?.error?.message,
        };
        if (json(cmd)) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        else if (doc.ok) {
          process.stdout.write(
            `Image was correctly validated\n    hash: ${doc.hash}\n    signature: ${r.signatureChecked ? 'valid' : 'not checked (no key given and none in the image)'}\n` +
              (r.keyMatch !== undefined ? `    key match: ${r.keyMatch ? 'yes' : 'no'}\n` : '') +
              (unpacked
                ? `    decompressed: hash ${doc.decompressed?.hash} (DECOMP_SHA), signature ${unpacked.signatureChecked ? 'valid (DECOMP_SIGNATURE)' : 'not checked'}\n`
                : ''),
          );
        }
        if (!r.ok) {
          const encrypted = r.image && isEncryptedImage(r.image.header.flags) && !o.decryptKey;
          throw new UsageError(
            `${file} failed verification: ${r.error?.message ?? 'the image is not valid'}${encrypted ? ' (the image is encrypted: give --decrypt-key PRIVATE.pem)' : ''}`,
          );
        }
        if (unpacked && !unpacked.ok)
          throw new UsageError(`${file} failed verification once decompressed: ${unpacked.error?.message ?? 'the image is not valid'}`);
      }
    });

  registerSignCommand(img);
  registerKeyCommands(img);
}

/** The decompressed image checked with the same key; a stream that cannot be decompressed is a failed check. */
async function decompressedCheck(bytes: Uint8Array, key: string | undefined): Promise<VerifyResult> {
  let plain: Uint8Array;
  try {
    plain = await decompressImage(bytes);
  } catch (err) {
    if (err instanceof ImageError && err.code !== 'package-unavailable') {
      return { ok: false, hashOk: false, signatureChecked: false, signatureOk: false, error: err };
    }
    throw err;
  }
  return verifyImage(plain, key ? { key } : {});
}

/** The image as MCUboot validates it: decrypted with `keyFile` when given. */
function plaintextImage(file: string, bytes: Uint8Array, keyFile: string | undefined): Uint8Array {
  if (keyFile === undefined) return bytes;
  try {
    return decryptImage(bytes, readLocalFile(keyFile));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot decrypt ${file}: ${(err as Error).message}`);
  }
}
