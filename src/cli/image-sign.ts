/** `mcumgr image sign`: imgtool 2.x's `sign`, with the same option names and meanings, plus external and PKCS#11 signers. */
import { extname } from 'node:path';
import { Option, type Command } from 'commander';
import {
  commandSigner,
  completeImage,
  fixedSignatureSigner,
  formatVersion,
  ihexToBinary,
  isPkcs11Uri,
  keyFileSigner,
  signingKeyInfo,
  bootMagic,
  parseImage,
  parseVersion,
  pkcs11Signer,
  prepareImage,
  segmentsToIhex,
  signImage,
  ImageError,
  TLV_TYPES,
  type CreateImageOptions,
  type CustomTlv,
  type ImageCompression,
  type ImageDependency,
  type ImageSigner,
  type SignedImage,
  type SignerInput,
} from '../image/node.js';
import { writeFileAtomic } from '../device/persist.js';
import { UsageError } from './connect.js';
import { readLocalFile, readTextFile } from './image-file.js';
import { toHex } from './format.js';

interface SignOpts {
  key?: string;
  publicKeyFormat: 'hash' | 'full';
  align: string;
  maxAlign?: string;
  imageVersion: string;
  securityCounter?: string;
  bootRecord?: string;
  dependencies?: string;
  loadAddr?: string;
  romFixed?: string;
  hexAddr?: string;
  headerSize: string;
  padHeader?: boolean;
  slotSize?: string;
  pad?: boolean;
  confirm?: boolean;
  test?: boolean;
  maxSectors?: string;
  saveEnctlv?: boolean;
  overwriteOnly?: boolean;
  endian: 'little' | 'big';
  erasedVal?: string;
  encrypt?: string;
  encryptKeylen: '128' | '256';
  hmacSha: 'auto' | '256' | '512';
  clear?: boolean;
  customTlv?: string[];
  customTlvFile?: string[];
  nonBootable?: boolean;
  sha: 'auto' | '256' | '384' | '512';
  pure?: boolean;
  vectorToSign?: 'payload' | 'digest';
  sigOut?: string;
  fixSig?: string;
  fixSigPubkey?: string;
  padSig?: boolean;
  vid?: string;
  cid?: string;
  compression?: string;
  signer?: string;
  signerInput: SignerInput;
  pkcs11Module?: string;
}

/** A whole number as imgtool's BasedIntAllParamType reads it: 0x hex, leading-0 octal, or decimal. */
export function basedInt(text: string, what: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^0[0-7]+$/.test(t) ? parseInt(t, 8) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid ${what} "${text}": a whole number (decimal, 0x hex or 0 octal)`);
  return n;
}

/** imgtool -d: "(image_id,version), (image_id,version)". */
function parseDependencies(text: string): ImageDependency[] {
  const found = [...text.matchAll(/\(\s*(\d+)\s*,\s*([0-9.+]+)\s*\)/g)];
  if (found.length === 0) throw new UsageError(`invalid dependencies "${text}": expected "(image_id,version), ..." e.g. "(1,1.2.3+0)"`);
  return found.map((m) => {
    try {
      return { image: Number(m[1]), version: parseVersion(m[2]!) };
    } catch (err) {
      throw new UsageError(`invalid dependency version "${m[2]}": ${(err as Error).message}`);
    }
  });
}

const PREDEFINED_TLVS = new Set<number>(Object.values(TLV_TYPES));

/**
 * imgtool --custom-tlv TAG VALUE (0x value = hex bytes, else UTF-8) and --custom-tlv-file TAG FILE (the file's bytes):
 * protected, vendor range 0xa0..0xfffe, not a predefined type, once per tag.
 */
export function parseCustomTlvs(pairs: string[], filePairs: string[] = []): CustomTlv[] {
  const out: CustomTlv[] = [];
  for (const [pair, fromFile] of [...pairs.map((p) => [p, false] as const), ...filePairs.map((p) => [p, true] as const)]) {
    const eq = pair.indexOf('=');
    const tagText = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0) throw new UsageError(`--custom-tlv ${pair}: needs a tag and a value (--custom-tlv 0xa0 0x0102)`);
    const value = pair.slice(eq + 1);
    const tag = basedInt(tagText, 'custom TLV tag');
    if (out.some((t) => t.type === tag)) throw new UsageError(`custom TLV 0x${tag.toString(16)} is given twice`);
    if (PREDEFINED_TLVS.has(tag)) throw new UsageError(`custom TLV 0x${tag.toString(16)} conflicts with a predefined TLV`);
    if (tag < 0xa0 || tag > 0xfffe) throw new UsageError(`invalid custom TLV type 0x${tag.toString(16).padStart(4, '0')}: allowed values are 0x00a0 to 0xfffe`);
    let bytes: Uint8Array;
    if (fromFile) bytes = readLocalFile(value);
    else if (value.startsWith('0x')) {
      const h = value.slice(2);
      if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h))
        throw new UsageError(`custom TLV 0x${tag.toString(16)}: "${value}" is not an even number of hex digits`);
      bytes = new Uint8Array(Buffer.from(h, 'hex'));
    } else bytes = new TextEncoder().encode(value);
    out.push({ type: tag, value: bytes, protected: true });
  }
  return out;
}

/** The input payload and, for Intel HEX, its first address (imgtool reads .hex by extension). */
function readPayload(path: string): { payload: Uint8Array; baseAddress?: number } {
  const file = readLocalFile(path);
  if (extname(path).toLowerCase() === '.hex' || (file.length > 0 && file[0] === 0x3a)) {
    try {
      const r = ihexToBinary(new TextDecoder().decode(file));
      return { payload: r.data, baseAddress: r.address };
    } catch (err) {
      throw new UsageError(`${path} is an Intel HEX file that cannot be converted: ${(err as Error).message}`);
    }
  }
  return { payload: file };
}

function toOptions(o: SignOpts): CreateImageOptions {
  const compressed = o.compression !== undefined && o.compression !== 'disabled';
  if (compressed && !o.padHeader) {
    throw new UsageError('--compression needs --pad-header: MCUboot hashes the header room of the decompressed image as erased flash');
  }
  if (compressed && (o.vectorToSign !== undefined || o.fixSig !== undefined)) {
    throw new UsageError(
      `--compression cannot be combined with ${o.fixSig !== undefined ? '--fix-sig' : '--vector-to-sign'}: a compressed image needs two signatures (the uncompressed and the compressed image)`,
    );
  }
  if (o.loadAddr !== undefined && o.romFixed !== undefined) throw new UsageError('cannot set --rom-fixed and --load-addr at the same time');
  try {
    parseVersion(o.imageVersion);
  } catch (err) {
    throw new UsageError(`invalid version "${o.imageVersion}": ${(err as Error).message} (e.g. 1.2.3+4)`);
  }
  const sc = o.securityCounter;
  const opts: CreateImageOptions = {
    version: o.imageVersion,
    endian: o.endian,
    headerSize: basedInt(o.headerSize, 'header size'),
    padHeader: Boolean(o.padHeader),
    align: basedInt(o.align, 'alignment'),
    ...(o.maxAlign !== undefined ? { maxAlign: basedInt(o.maxAlign, 'max alignment') } : {}),
    ...(o.slotSize !== undefined ? { slotSize: basedInt(o.slotSize, 'slot size') } : {}),
    pad: Boolean(o.pad || o.test),
    confirm: Boolean(o.confirm),
    ...(o.maxSectors !== undefined ? { maxSectors: basedInt(o.maxSectors, 'max sectors') } : {}),
    overwriteOnly: Boolean(o.overwriteOnly),
    ...(o.erasedVal !== undefined ? { erasedVal: basedInt(o.erasedVal, 'erased value') } : {}),
    ...(sc !== undefined ? { securityCounter: sc.toLowerCase() === 'auto' ? 'auto' : basedInt(sc, 'security counter') } : {}),
    ...(o.bootRecord !== undefined ? { bootRecord: o.bootRecord } : {}),
    ...(o.dependencies !== undefined ? { dependencies: parseDependencies(o.dependencies) } : {}),
    ...(o.loadAddr !== undefined ? { loadAddress: basedInt(o.loadAddr, 'load address') } : {}),
    ...(o.romFixed !== undefined ? { loadAddress: basedInt(o.romFixed, 'ROM address'), romFixed: true } : {}),
    nonBootable: Boolean(o.nonBootable),
    publicKeyFormat: o.publicKeyFormat,
    sha: o.sha === 'auto' ? 'auto' : (Number(o.sha) as 256 | 384 | 512),
    pure: Boolean(o.pure),
    padSig: Boolean(o.padSig),
    ...(o.vid !== undefined ? { vid: o.vid } : {}),
    ...(o.cid !== undefined ? { cid: o.cid } : {}),
    customTlvs: parseCustomTlvs(o.customTlv ?? [], o.customTlvFile ?? []),
    ...(compressed ? { compression: o.compression as ImageCompression } : {}),
  };
  if (o.encrypt !== undefined) {
    opts.encryption = {
      key: readLocalFile(o.encrypt),
      keyLength: o.encryptKeylen === '256' ? 256 : 128,
      hmacSha: o.hmacSha === '512' ? 512 : 256,
      clear: Boolean(o.clear),
      saveEncTlv: Boolean(o.saveEnctlv),
    };
  } else if (o.clear || o.hmacSha !== 'auto') {
    throw new UsageError(`${o.clear ? '-c/--clear' : '--hmac-sha'} only applies to an encrypted image (-E KEY)`);
  }
  return opts;
}

/** Which signer the options name (one signing path for all of them). */
async function chooseSigner(o: SignOpts): Promise<(ImageSigner & { close?(): void }) | undefined> {
  if (o.fixSig !== undefined) {
    if (o.key !== undefined || o.signer !== undefined) throw new UsageError('--fix-sig cannot be combined with -k or --signer: the signature is already made');
    if (o.fixSigPubkey === undefined) throw new UsageError('--fix-sig needs --fix-sig-pubkey, the public key the signature was made with');
    const sigText = readTextFile(o.fixSig, '--fix-sig file').trim();
    const signature = new Uint8Array(Buffer.from(sigText, 'base64'));
    if (signature.length === 0 || Buffer.from(signature).toString('base64') !== sigText.replace(/\s+/g, '')) {
      throw new UsageError(`${o.fixSig} is not a base64 signature (the form --sig-out writes)`);
    }
    return fixedSignatureSigner(readTextFile(o.fixSigPubkey, '--fix-sig-pubkey file'), signature);
  }
  if (o.signer !== undefined) {
    const pub = o.key ?? o.fixSigPubkey;
    if (pub === undefined) throw new UsageError('--signer needs the public key of the signature: -k PUBLIC.pem');
    return commandSigner({ command: o.signer, publicKeyPem: readTextFile(pub, 'key file'), input: o.signerInput });
  }
  if (o.key !== undefined && isPkcs11Uri(o.key)) {
    const module = o.pkcs11Module ?? process.env.MCUMGR_PKCS11_MODULE;
    const pin = process.env.MCUMGR_PKCS11_PIN;
    return pkcs11Signer(o.key, { ...(module ? { module } : {}), ...(pin !== undefined ? { pin } : {}) });
  }
  if (o.key !== undefined) return keyFileSigner(readTextFile(o.key, 'key file'), { padSig: Boolean(o.padSig) });
  return undefined;
}

function asUsage(err: unknown, input: string): never {
  if (err instanceof UsageError) throw err;
  if (err instanceof ImageError && (err.code === 'signer-failed' || err.code === 'package-unavailable')) throw err;
  throw new UsageError(`cannot sign ${input}: ${(err as Error).message}`);
}

/** Runs one step of signing; image and key problems become usage errors naming the input, signer failures stay. */
async function asUsageOf<T>(input: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    return asUsage(err, input);
  }
}

export function registerSignCommand(img: Command): void {
  img
    .command('sign')
    .description('Build a signed (and optionally encrypted) MCUboot image from a raw .bin or Intel HEX payload: imgtool 2.x `sign` (no device needed)')
    .option('-k, --key <file|uri>', 'private key (PEM), or a PKCS#11 URI "pkcs11:token=...;object=..."; with --signer, the public key')
    .addOption(new Option('--public-key-format <fmt>', 'embed the key hash or the full public key').choices(['hash', 'full']).default('hash'))
    .addOption(new Option('--align <n>', 'flash write alignment').choices(['1', '2', '4', '8', '16', '32']).default('1'))
    .addOption(new Option('--max-align <n>', 'maximum flash alignment (BOOT_MAX_ALIGN); default max(8, --align)').choices(['8', '16', '32']))
    .requiredOption('--image-version <ver>', 'image version maj.min.rev+build (also -v, --version)')
    .option('-s, --security-counter <n|auto>', 'security counter (protected SEC_CNT TLV); auto derives it from the version')
    .option('--boot-record <sw_type>', 'software type for a protected BOOT_RECORD TLV (measured boot), at most 12 characters')
    .option('-d, --dependencies <deps>', 'protected DEPENDENCY TLVs: "(image_id,version), ..."')
    .option('-L, --load-addr <addr>', 'load address for RAM-load (sets RAM_LOAD)')
    .option('-F, --rom-fixed <addr>', 'fixed ROM address of the image (sets ROM_FIXED)')
    .option('-x, --hex-addr <addr>', 'address of the image in an Intel HEX output')
    .option('-H, --header-size <n>', 'header size (e.g. 0x200)', '0x20')
    .option('--pad-header', 'prepend the header space (erased bytes) to the payload')
    .option('-S, --slot-size <n>', 'slot size: the image and its trailer must fit (needed with --pad/--confirm)')
    .option('--pad', 'pad to the slot size and write the trailer magic (the image is tested at the next boot)')
    .option('--confirm', 'pad and mark the image confirmed (image_ok)')
    .option('--test', 'same as --pad: pad and write the trailer magic, image_ok unset, so the image is tested once')
    .option('-M, --max-sectors <n>', 'most sectors of a slot, for the trailer size (default 128)')
    .option('--save-enctlv', 'size the trailer for a bootloader that saves the ENC TLV rather than the plain key')
    .option('--overwrite-only', 'trailer of an overwrite-only bootloader')
    .addOption(new Option('-e, --endian <e>', 'byte order').choices(['little', 'big']).default('little'))
    .option('-R, --erased-val <v>', 'value of erased flash (0xff or 0)')
    .option(
      '-E, --encrypt <file>',
      'encrypt for this key: PEM RSA-2048 (RSA-OAEP), EC P-256 (ECIES-P256) or X25519 (ECIES-X25519), or a raw 16/32-byte AES key file (AES key wrap)',
    )
    .addOption(new Option('--encrypt-keylen <bits>', 'AES key length').choices(['128', '256']).default('128'))
    .addOption(new Option('--hmac-sha <n>', 'ECIES MAC and HKDF hash; 512 only with X25519').choices(['auto', '256', '512']).default('auto'))
    .option('--clear', 'with -E: the ENC TLV and flags, but the body left in clear (also -c)')
    .option(
      '--custom-tlv <tag=value>',
      "protected TLV TAG (0xa0..0xfffe) with VALUE (0x hex bytes, or text), repeatable; imgtool's form --custom-tlv TAG VALUE also works",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--custom-tlv-file <tag=file>',
      "like --custom-tlv, the value read from a binary file; imgtool's form --custom-tlv-file TAG FILE also works",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--non-bootable', 'mark the image non-bootable')
    .addOption(
      new Option('--sha <n>', "image hash; auto is the key's (SHA-384 for P-384, else SHA-256)").choices(['auto', '256', '384', '512']).default('auto'),
    )
    .option('--pure', 'Ed25519 over the whole payload (SIG_PURE TLV)')
    .addOption(
      new Option('--vector-to-sign <what>', 'write the payload or its digest to OUTPUT instead of the image, for signing offline').choices([
        'payload',
        'digest',
      ]),
    )
    .option('--sig-out <file>', 'also write the signature, base64, to this file')
    .option('--fix-sig <file>', 'use this base64 signature (made offline) instead of signing; needs --fix-sig-pubkey')
    .option('--fix-sig-pubkey <file>', 'public key (PEM) of the --fix-sig signature')
    .option('--pad-sig', 'pad ECDSA signatures to their longest length (MCUboot < 1.5)')
    .option('--vid <uuid|name>', 'vendor UUID (protected UUID_VID TLV); a name becomes a UUIDv5 in the DNS namespace')
    .option('--cid <uuid|name>', "image class UUID (protected UUID_CID TLV); a name becomes a UUIDv5 in the vendor's namespace")
    .addOption(
      new Option(
        '--compression <alg>',
        'compress the body with LZMA2 (needs --pad-header and the lzma-native package); kept uncompressed if that saves nothing',
      )
        .choices(['disabled', 'lzma2', 'lzma2armthumb'])
        .default('disabled'),
    )
    .option('--signer <command>', 'sign with an external command: digest (or payload) on stdin, signature (raw or base64) on stdout; -k gives the public key')
    .addOption(new Option('--signer-input <what>', 'what the --signer command reads').choices(['digest', 'payload']).default('digest'))
    .option('--pkcs11-module <path>', 'PKCS#11 module for a pkcs11: key (default $MCUMGR_PKCS11_MODULE); PIN from pin-value= or $MCUMGR_PKCS11_PIN')
    .argument('<input>', 'payload: raw .bin or Intel HEX (.hex)')
    .argument('<output>', 'signed image to write (.hex for Intel HEX)')
    .action(async (input: string, output: string, o: SignOpts, cmd: Command) => {
      const { payload, baseAddress } = readPayload(input);
      const opts = toOptions(o);
      const signer = await chooseSigner(o).catch((err: unknown) => asUsage(err, input));
      try {
        // imgtool's first offline step may name only the public key: it decides the hash and the boot record's signer id.
        const keyInfo = signer ?? (o.fixSigPubkey !== undefined ? signingKeyInfo(readTextFile(o.fixSigPubkey, '--fix-sig-pubkey file')) : undefined);
        const prep = await asUsageOf(input, async () => prepareImage(payload, opts, keyInfo));
        if (o.vectorToSign !== undefined) {
          writeOutput(output, o.vectorToSign === 'payload' ? prep.payload : prep.digest);
          report(
            cmd,
            { output, vector: o.vectorToSign, size: o.vectorToSign === 'payload' ? prep.payload.length : prep.digest.length, hash: toHex(prep.digest) },
            `Wrote the ${o.vectorToSign} to sign to ${output}\n    hash: ${toHex(prep.digest)}\n`,
          );
          return;
        }
        if (o.sigOut !== undefined && !signer) throw new UsageError('--sig-out needs a signature: give -k, --signer or --fix-sig');
        const {
          image: bytes,
          signature,
          compression,
        }: SignedImage = opts.compression
          ? await asUsageOf(input, () => signImage(payload, { ...opts, ...(signer ? { signer } : {}) }))
          : await asUsageOf(input, async () => {
              const signature = signer
                ? await signer.sign({ payload: prep.payload, digest: prep.digest, hashAlgorithm: prep.hashAlgorithm, pure: prep.pure })
                : undefined;
              return { image: completeImage(prep, signature), ...(signature ? { signature } : {}) };
            });
        const file = extname(output).toLowerCase() === '.hex' ? new TextEncoder().encode(hexImage(bytes, opts, o, baseAddress)) : bytes;
        if (o.sigOut !== undefined) writeOutput(o.sigOut, new TextEncoder().encode(Buffer.from(signature!).toString('base64')));
        writeOutput(output, file);
        const image = parseImage(bytes);
        const doc = {
          output,
          size: bytes.length,
          version: formatVersion(image.header.version),
          hash: image.hash ? toHex(image.hash) : undefined,
          signed: Boolean(signature),
          encrypted: Boolean(opts.encryption && !opts.encryption.clear),
          ...(compression ? { compression: { type: opts.compression, ...compression } } : {}),
        };
        report(
          cmd,
          doc,
          `Wrote ${output}\n    version: ${doc.version}\n    size: ${doc.size} bytes\n    hash: ${doc.hash ?? 'none'}\n    signed: ${doc.signed ? `yes (${signer!.keyType})` : 'no (hash only)'}\n` +
            (opts.encryption ? `    encrypted: ${doc.encrypted ? 'yes' : 'no (--clear: ENC TLV only)'}\n` : '') +
            (compression ? compressionLine(opts.compression!, compression) : ''),
        );
      } finally {
        signer?.close?.();
      }
    });
}

function compressionLine(type: ImageCompression, c: { originalSize: number; compressedSize: number; used: boolean }): string {
  const sizes = `${c.compressedSize} of ${c.originalSize} bytes`;
  return c.used ? `    compressed: ${type}, ${sizes}\n` : `    compressed: no (${type} gave ${sizes}, which saves nothing once the DECOMP_* TLVs are added)\n`;
}

function report(cmd: Command, doc: object, text: string): void {
  if ((cmd.optsWithGlobals() as { json?: boolean }).json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else process.stdout.write(text);
}

/** Writes through a temporary file and a rename: a failure never leaves a half-written output. */
function writeOutput(path: string, data: Uint8Array): void {
  try {
    writeFileAtomic(path, data);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/**
 * imgtool's Intel HEX output: the image at its address and, when padded, only the trailer's magic (and image_ok)
 * at the end of the slot, not the erased bytes between.
 */
function hexImage(bytes: Uint8Array, opts: CreateImageOptions, o: SignOpts, baseAddress: number | undefined): string {
  let base =
    o.hexAddr !== undefined
      ? basedInt(o.hexAddr, 'hex address')
      : baseAddress !== undefined
        ? baseAddress - (opts.padHeader ? (opts.headerSize ?? 0x20) : 0)
        : undefined;
  if (base === undefined) throw new UsageError('an Intel HEX output needs an address: the input is not Intel HEX, so give -x/--hex-addr');
  base >>>= 0;
  if (!(opts.pad || opts.confirm) || opts.slotSize === undefined) return segmentsToIhex([{ address: base, data: bytes }]);
  const imageLength = parseImage(bytes).size;
  const maxAlign = opts.maxAlign ?? Math.max(8, opts.align ?? 1);
  const magic = bootMagic(maxAlign);
  const segments = [{ address: base, data: bytes.subarray(0, imageLength) }];
  if (opts.confirm && !opts.overwriteOnly) {
    const at = bytes.length - Math.ceil(16 / maxAlign) * maxAlign - maxAlign;
    segments.push({ address: base + at, data: bytes.subarray(at, at + maxAlign) });
  }
  segments.push({ address: base + bytes.length - magic.length, data: magic });
  return segmentsToIhex(segments);
}
