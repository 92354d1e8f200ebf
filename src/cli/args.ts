/** Parsing of command arguments into what the device commands need; bad input is a UsageError. */
import { UsageError } from './connect.js';
import { fromHex } from './format.js';

export function parseHash(text: string): Uint8Array {
  let h: Uint8Array;
  try {
    h = fromHex(text);
  } catch {
    throw new UsageError(`invalid image hash "${text}": expected hex digits (see \`mcumgr image list\`)`);
  }
  if (h.length !== 32) throw new UsageError(`invalid image hash "${text}": expected 64 hex digits (a SHA-256), got ${h.length * 2}`);
  return h;
}

export function parseUint(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid ${what} "${text}" (a whole number)`);
  return n;
}

/** Global options that must come before the words of some commands. */
export function preprocess(argv: string[]): string[] {
  const out = [...argv];
  // `shell exec` takes the rest of the line literally (so `shell exec ls -l` works).
  const si = out.findIndex((a, i) => a === 'shell' && out[i + 1] === 'exec');
  if (si >= 0 && out[si + 2] !== '--') out.splice(si + 2, 0, '--');
  // `fs hash ... -t TYPE`: -t is the global timeout elsewhere.
  const hi = out.findIndex((a, i) => a === 'fs' && out[i + 1] === 'hash');
  if (hi >= 0) for (let i = hi + 2; i < out.length; i++) if (out[i] === '-t') out[i] = '--type';
  // `image sign -v/--version X`, `-c`: the global version and connection-profile flags elsewhere; imgtool's
  // `--custom-tlv TAG VALUE` and `--custom-tlv-file TAG FILE` take two words.
  const ii = out.findIndex((a, i) => a === 'image' && out[i + 1] === 'sign');
  if (ii >= 0) {
    for (let i = ii + 2; i < out.length && out[i] !== '--'; i++) {
      if (out[i] === '--version' || out[i] === '-v') out[i] = '--image-version';
      else if (out[i]!.startsWith('--version=')) out[i] = `--image-version=${out[i]!.slice(10)}`;
      else if (out[i] === '-c') out[i] = '--clear';
      else if ((out[i] === '--custom-tlv' || out[i] === '--custom-tlv-file') && i + 2 < out.length && !out[i + 1]!.includes('=')) {
        out.splice(i + 1, 2, `${out[i + 1]}=${out[i + 2]}`);
      }
    }
  }
  // `image keygen -t TYPE`: -t is the global timeout elsewhere.
  const ki = out.findIndex((a, i) => a === 'image' && out[i + 1] === 'keygen');
  if (ki >= 0) for (let i = ki + 2; i < out.length; i++) if (out[i] === '-t') out[i] = '--type';
  return out;
}
