/** `mcumgr image keygen`, `getpub`, `getpubhash`, `getpriv`, `keyinfo`: imgtool's key commands (no device involved). */
import { Option, type Command } from 'commander';
import {
  generateKey,
  keyInfo,
  privateKeyOutput,
  publicKeyHashOutput,
  publicKeyOutput,
  readKeyFile,
  type KeyFile,
  type KeygenType,
  type PublicEncoding,
} from '../image/node.js';
import { writeFileAtomic } from '../device/persist.js';
import { UsageError } from './connect.js';
import { readTextFile } from './image-file.js';

const KEY_TYPES: KeygenType[] = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'x25519'];
/** imgtool's names, and the short ones. */
const ENCODINGS: Record<string, PublicEncoding> = { 'lang-c': 'lang-c', c: 'lang-c', 'lang-rust': 'lang-rust', rust: 'lang-rust', pem: 'pem', raw: 'raw' };

function json(cmd: Command): boolean {
  return Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
}

function load(path: string): KeyFile {
  try {
    return readKeyFile(readTextFile(path, 'key file'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

/** To `-o FILE` (through a temporary file) or stdout. */
function output(out: string | undefined, data: string | Uint8Array): void {
  if (out === undefined) {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileAtomic(out, data);
  } catch (err) {
    throw new UsageError(`cannot write ${out}: ${(err as Error).message}`);
  }
}

export function registerKeyCommands(img: Command): void {
  img
    .command('keygen')
    .description('Generate an MCUboot key (PEM, PKCS#8): signing, or x25519 for ECIES-X25519 encryption (no device needed)')
    .addOption(new Option('--type <type>', 'key type (also -t)').choices(KEY_TYPES).makeOptionMandatory())
    .requiredOption('-k, --key <out.pem>', 'file to write the private key to')
    .option('-e, --export <pub.pem>', 'also write the public key (PEM) to this file')
    .action((o: { type: KeygenType; key: string; export?: string }, cmd: Command) => {
      const pem = generateKey(o.type);
      output(o.key, pem);
      if (o.export !== undefined) output(o.export, publicKeyOutput(readKeyFile(pem), 'pem'));
      if (json(cmd)) process.stdout.write(`${JSON.stringify({ type: o.type, key: o.key, ...(o.export ? { export: o.export } : {}) }, null, 2)}\n`);
      else process.stdout.write(`Wrote ${o.type} private key to ${o.key}${o.export ? ` and its public key to ${o.export}` : ''}\n`);
    });
  img
    .command('getpub')
    .description("Print a key's public key as C or Rust source, PEM or raw bytes, as imgtool getpub does")
    .requiredOption('-k, --key <pem>', 'private or public key (PEM)')
    .addOption(new Option('-e, --encoding <enc>', 'output form').choices(Object.keys(ENCODINGS)).default('lang-c'))
    .option('--name-suffix <suffix>', 'appended to the C/Rust variable names')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((o: { key: string; encoding: string; nameSuffix?: string; output?: string }) => {
      output(o.output, publicKeyOutput(load(o.key), ENCODINGS[o.encoding]!, o.nameSuffix ?? ''));
    });
  img
    .command('getpubhash')
    .description('Print the hash of the public key MCUboot compares with the KEYHASH TLV (SHA-256; SHA-384 for P-384)')
    .requiredOption('-k, --key <pem>', 'private or public key (PEM)')
    .addOption(new Option('-e, --encoding <enc>', 'output form').choices(['lang-c', 'c', 'raw']).default('lang-c'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((o: { key: string; encoding: string; output?: string }) => {
      output(o.output, publicKeyHashOutput(load(o.key), o.encoding === 'raw' ? 'raw' : 'lang-c'));
    });
  img
    .command('getpriv')
    .description("Print a private key as C source (MCUboot's enc_priv_key), as imgtool getpriv does")
    .requiredOption('-k, --key <pem>', 'private key (PEM)')
    .addOption(new Option('-f, --format <fmt>', 'DER structure: PKCS#8, or the traditional OpenSSL one').choices(['pkcs8', 'openssl']).default('pkcs8'))
    .option('--minimal', "leave out an ECDSA key's public key (MCUboot then derives it); other key types print in full, as imgtool does")
    .action((o: { key: string; format: 'pkcs8' | 'openssl'; minimal?: boolean }) => {
      try {
        output(undefined, privateKeyOutput(load(o.key), o.format, Boolean(o.minimal)));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError((err as Error).message);
      }
    });
  img
    .command('keyinfo')
    .description('Show what a key file holds: type, size, private or public, what MCUboot uses it for, its hash')
    .argument('<file>', 'key (PEM)')
    .action((file: string, _o: unknown, cmd: Command) => {
      const info = keyInfo(load(file));
      if (json(cmd)) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else {
        process.stdout.write(
          `${file}\n    type: ${info.type} (${info.private ? 'private' : 'public'} key)\n    size: ${info.size}\n` +
            `    use: ${info.use}\n    public key hash: ${info.publicKeyHash}\n`,
        );
      }
    });
}
