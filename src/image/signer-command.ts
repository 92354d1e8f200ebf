/**
 * `--signer 'COMMAND'`: an external program signs (a KMS client, an HSM tool, a second person's script). It gets the
 * digest (or the payload) on stdin and the key type and hash in its environment, and writes the signature on stdout:
 * raw bytes, or base64 text (the form imgtool's --sig-out writes).
 */
import { spawn } from 'node:child_process';
import { ImageError } from './errors.js';
import { publicKeyBytes } from './crypto-node.js';
import { checkedSignature, publicKeyOf } from './signer-key.js';
import type { ImageSigner, SignRequest } from './signer.js';

export type SignerInput = 'digest' | 'payload';

/** Largest signature output accepted (RSA-3072 is 384 bytes; base64 and a newline add a third). */
const MAX_OUTPUT = 4096;

export interface CommandSignerOptions {
  /** Shell command line. */
  command: string;
  /** PEM public (or private) key whose signature the command makes. */
  publicKeyPem: string;
  /** What the command reads on stdin. Default: the digest. */
  input?: SignerInput;
}

export function commandSigner(opts: CommandSignerOptions): ImageSigner {
  const key = publicKeyOf(opts.publicKeyPem);
  const publicKey = publicKeyBytes(key);
  const input = opts.input ?? 'digest';
  return {
    keyType: key.type,
    publicKey,
    async sign(req: SignRequest): Promise<Uint8Array> {
      const out = await runSigner(opts.command, input === 'payload' ? req.payload : req.digest, {
        MCUMGR_SIGN_KEY_TYPE: key.type,
        MCUMGR_SIGN_HASH: req.hashAlgorithm,
        MCUMGR_SIGN_INPUT: input,
      });
      return checkedSignature(key.type, publicKey, req, decodeSignature(out), `output of the signer command "${opts.command}"`, 'signer-failed');
    },
  };
}

/** Base64 text (imgtool's --sig-out form) is decoded; anything else is taken as raw signature bytes. */
export function decodeSignature(out: Uint8Array): Uint8Array {
  const text = new TextDecoder('latin1').decode(out).replace(/\s+/g, '');
  if (text.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) return new Uint8Array(Buffer.from(text, 'base64'));
  return out;
}

function runSigner(command: string, stdin: Uint8Array, env: Record<string, string>): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failed: ImageError | undefined;
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_OUTPUT && !failed) {
        failed = new ImageError('signer-failed', `the signer command "${command}" wrote more than ${MAX_OUTPUT} bytes: that is no signature`);
        child.kill();
      } else chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString('utf8');
    });
    child.on('error', (err) => reject(new ImageError('signer-failed', `cannot run the signer command "${command}": ${err.message}`)));
    child.stdin.on('error', () => {
      // A command that exits without reading its input is judged by its exit status and output below.
    });
    child.on('close', (code, signal) => {
      if (failed) return reject(failed);
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        const detail = stderr.trim().split('\n').slice(-1)[0];
        return reject(new ImageError('signer-failed', `the signer command "${command}" ${why}${detail ? `: ${detail}` : ''}`));
      }
      if (size === 0) return reject(new ImageError('signer-failed', `the signer command "${command}" wrote no signature on stdout`));
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    child.stdin.end(Buffer.from(stdin));
  });
}
