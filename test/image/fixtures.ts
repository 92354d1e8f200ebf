import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CreateImageOptions } from '../../src/image/node.js';

export const FIXDIR = fileURLToPath(new URL('../fixtures/mcuboot-images/', import.meta.url));
export const fx = (p: string): Uint8Array => new Uint8Array(readFileSync(FIXDIR + p));
export const fxText = (p: string): string => readFileSync(FIXDIR + p, 'utf8');

interface Run {
  command: string;
  exit_status: number;
  stdout: string;
  stderr: string;
}
export interface ManifestImage {
  file: string;
  signer: string;
  key: string | null;
  variant: string;
  input: string;
  sign: Run;
  size: number;
  sha256: string;
  verify: Run;
  dumpinfo: Run;
}
export interface Manifest {
  images: ManifestImage[];
  broken: { file: string; size: number; sha256: string; derived_from: string; verify: Run; dumpinfo: Run }[];
  wrong_key: { file: string; key: string; verify: Run }[];
}
export const manifest: Manifest = JSON.parse(fxText('manifest.json'));

/** Translate an imgtool sign command line from the manifest into createImage options + input file. */
export function fromCommand(cmd: string): { input: string; output: string; opts: CreateImageOptions } {
  const a = cmd.split(/\s+/);
  const opts: CreateImageOptions = {};
  const pos: string[] = [];
  for (let i = 2; i < a.length; i++) {
    const t = a[i]!;
    switch (t) {
      case '-k':
        opts.key = fxText(a[++i]!);
        break;
      case '--align':
        opts.align = Number(a[++i]);
        break;
      case '-v':
        opts.version = a[++i];
        break;
      case '-H':
        opts.headerSize = Number(a[++i]);
        break;
      case '-S':
        opts.slotSize = Number(a[++i]);
        break;
      case '-s':
        opts.securityCounter = Number(a[++i]);
        break;
      case '--pad':
        opts.pad = true;
        break;
      case '--confirm':
        opts.confirm = true;
        break;
      case '--pad-header':
        opts.padHeader = true;
        break;
      case '--public-key-format':
        opts.publicKeyFormat = a[++i] as 'hash' | 'full';
        break;
      default:
        if (t.startsWith('-')) throw new Error(`unhandled imgtool option ${t}`);
        pos.push(t);
    }
  }
  return { input: pos[0]!, output: pos[1]!, opts };
}

/** Facts from imgtool dumpinfo stdout. */
export function dumpinfoFacts(out: string) {
  const num = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(0x[0-9a-f]+)`, 'm').exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const version = /^version:\s+(\S+)/m.exec(out)?.[1];
  const tlvs = [...out.matchAll(/type: (\S+) \((0x[0-9a-f]+)\)\n\s+len:\s+(0x[0-9a-f]+)/g)].map((m) => ({
    name: m[1]!,
    type: Number(m[2]),
    len: Number(m[3]),
  }));
  const areaSizes = [...out.matchAll(/area size: (0x[0-9a-f]+)/g)].map((m) => Number(m[1]));
  return {
    magic: num('magic'),
    loadAddr: num('load_addr'),
    hdrSize: num('hdr_size'),
    protectedTlvSize: num('protected_tlv_size'),
    imgSize: num('img_size'),
    flags: num('flags'),
    version,
    tlvs,
    areaSizes,
    padded: out.includes('Image padding'),
    imageOk: /^image_ok:\s+(0x[0-9a-f]+)/m.exec(out)?.[1],
  };
}

export function sha256hex(b: Uint8Array): string {
  // small helper for tests only
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return createHashHex(b);
}
import { createHash } from 'node:crypto';
function createHashHex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
