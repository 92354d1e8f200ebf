// The few DER structures MCUboot keys and signatures use (SubjectPublicKeyInfo, PKCS#8, ECDSA-Sig-Value).
import { ImageError } from './errors.js';

export const DER = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

export interface DerElement {
  tag: number;
  value: Uint8Array;
}

/** Reads the elements that follow each other in `bytes` (e.g. the content of a SEQUENCE). */
export function readDerElements(bytes: Uint8Array): DerElement[] {
  const out: DerElement[] = [];
  let p = 0;
  while (p < bytes.length) {
    const tag = bytes[p]!;
    let len = bytes[p + 1];
    p += 2;
    if (len === undefined) throw new ImageError('bad-key', 'DER element is truncated');
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3 || p + n > bytes.length) throw new ImageError('bad-key', 'DER length is malformed');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[p + i]!;
      p += n;
    }
    if (p + len > bytes.length) throw new ImageError('bad-key', 'DER element is truncated');
    out.push({ tag, value: bytes.subarray(p, p + len) });
    p += len;
  }
  return out;
}

/** The content of the single element of `bytes`, which must carry `tag`. */
export function readDer(bytes: Uint8Array, tag: number): Uint8Array {
  const [first] = readDerElements(bytes);
  if (!first || first.tag !== tag) throw new ImageError('bad-key', `expected DER tag 0x${tag.toString(16)}`);
  return first.value;
}

export function encodeDer(tag: number, ...content: Uint8Array[]): Uint8Array {
  const len = content.reduce((n, c) => n + c.length, 0);
  const lenBytes =
    len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : len < 0x10000 ? [0x82, len >> 8, len & 0xff] : [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(1 + lenBytes.length + len);
  out[0] = tag;
  out.set(lenBytes, 1);
  let o = 1 + lenBytes.length;
  for (const c of content) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
