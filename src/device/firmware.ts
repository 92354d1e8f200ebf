/** Sample application images for the virtual device: what it seeds slot 0 with, and what tests upload. */
import { createImage, parseImage, TLV_TYPES } from '../image/node.js';

export interface BuildImageOptions {
  /** `1.2.3`, `1.2.3+4` or `1.2.3.4`. */
  version: string;
  body?: Uint8Array;
  /** Image number it is built for: the default bodies of different images differ, as their applications do. */
  image?: number;
  /** Corrupts the hash TLV (for tests of MCUboot's validation). */
  badHash?: boolean;
}

/** An unsigned MCUboot image with a SHA-256 TLV and a 0x200-byte header (`imgtool sign` without a key, as Zephyr builds it). */
export function buildImage(opts: BuildImageOptions): Uint8Array {
  const img = createImage(opts.body ?? defaultBody(opts.version, opts.image ?? 0), { version: opts.version, headerSize: 0x200, padHeader: true });
  if (opts.badHash) {
    const hashTlv = parseImage(img).unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.SHA256)!;
    img[hashTlv.offset + 4]! ^= 0xff;
  }
  return img;
}

function defaultBody(version: string, image: number): Uint8Array {
  const label = image === 0 ? version : `${version} image ${image}`;
  const body = new Uint8Array(4096);
  const text = new TextEncoder().encode(`mcumgr-sim application ${label}\0`);
  body.set(text, 0);
  for (let i = text.length; i < body.length; i++) body[i] = (i * 31 + label.length) & 0xff;
  return body;
}
