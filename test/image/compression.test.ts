import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compressedBody, compressionFlags } from '../../src/image/compressed.js';
import { IMGTOOL_LZMA2, lzma2Compress, lzma2Decompress, lzma2Header, parseLzma2Header } from '../../src/image/lzma.js';
import {
  createImage,
  decompressImage,
  generateKey,
  installedImageHash,
  prepareImage,
  completeImage,
  IMAGE_FLAGS,
  ImageError,
  isCompressedImage,
  parseImage,
  signImage,
  TLV_TYPES,
  toHex,
  verifyImage,
  type CreateImageOptions,
} from '../../src/image/node.js';
import { fx, fxText } from './fixtures.js';

// Reference streams: Python's lzma (liblzma) called as imgtool calls it; see test/fixtures/lzma2/SOURCE.md.
const LZ = fileURLToPath(new URL('../fixtures/lzma2/', import.meta.url));
const lz = (name: string) => new Uint8Array(readFileSync(LZ + name));
const thumb = lz('thumb.bin');
const payload = fx('payload.bin');

const base: CreateImageOptions = { version: '1.2.3+4', headerSize: 0x200, padHeader: true, align: 4, slotSize: 0x20000 };
const ed25519 = fxText('keys/ed25519.pem');
const p256 = fxText('keys/ecdsa-p256.pem');

describe('LZMA2 as imgtool makes it', () => {
  for (const [name, input] of [
    ['thumb', thumb],
    ['payload', payload],
  ] as const) {
    for (const armThumb of [false, true]) {
      const ext = armThumb ? 'lzma2armthumb' : 'lzma2';
      it(`${name}.bin → ${name}.${ext}: byte-identical with liblzma under imgtool's filters`, async () => {
        const out = await lzma2Compress(input, armThumb);
        expect(toHex(out)).toBe(toHex(lz(`${name}.${ext}`)));
        expect(toHex(await lzma2Decompress(out, IMGTOOL_LZMA2, armThumb, input.length))).toBe(toHex(input));
      });
    }
  }

  it('the ARM-Thumb filter is applied (it shrinks Thumb code with calls)', async () => {
    expect((await lzma2Compress(thumb, true)).length).toBeLessThan((await lzma2Compress(thumb, false)).length);
  });

  it("create_lzma2_header: imgtool's two bytes, and back", () => {
    // 128 KiB is LZMA2 dictionary byte 10 (2 << 16); (pb 2 × 5 + lp 1) × 9 + lc 3 = 102.
    expect([...lzma2Header(IMGTOOL_LZMA2)]).toEqual([10, 102]);
    expect(parseLzma2Header(lzma2Header(IMGTOOL_LZMA2))).toEqual(IMGTOOL_LZMA2);
    expect(parseLzma2Header(new Uint8Array([11, 102]))?.dictSize).toBe(3 << 16);
    expect(parseLzma2Header(new Uint8Array([41, 102]))).toBeUndefined();
    expect(parseLzma2Header(new Uint8Array([10, 225]))).toBeUndefined();
    // lc 4 + lp 1 is more than LZMA2 allows.
    expect(parseLzma2Header(new Uint8Array([10, 9 + 4]))).toBeUndefined();
    expect(parseLzma2Header(new Uint8Array([10]))).toBeUndefined();
    // The last dictionary byte, 40, means 4 GiB - 1; nothing beyond it.
    expect(parseLzma2Header(new Uint8Array([40, 102]))?.dictSize).toBe(0xffffffff);
    expect(lzma2Header({ ...IMGTOOL_LZMA2, dictSize: 0xffffffff })[0]).toBe(40);
    expect(lzma2Header({ ...IMGTOOL_LZMA2, dictSize: 3 << 16 })[0]).toBe(11);
    expect(lzma2Header({ ...IMGTOOL_LZMA2, dictSize: (2 << 16) + 1 })[0]).toBe(11);
  });

  it('a dictionary beyond 64 MiB is refused before anything is allocated', async () => {
    const out = await lzma2Compress(payload, false);
    await expect(lzma2Decompress(out, { ...IMGTOOL_LZMA2, dictSize: 96 << 20 }, false, payload.length)).rejects.toThrow(/dictionary of 100663296 bytes/);
    // 64 MiB itself is accepted (a decoder may take a larger dictionary than the encoder used).
    expect((await lzma2Decompress(out, { ...IMGTOOL_LZMA2, dictSize: 64 << 20 }, false, payload.length)).length).toBe(payload.length);
  });

  it('a stream that says more than the limit is refused without growing past it', async () => {
    const out = await lzma2Compress(thumb, false);
    await expect(lzma2Decompress(out, IMGTOOL_LZMA2, false, 1000)).rejects.toMatchObject({
      code: 'too-large',
      message: 'the LZMA2 stream decompresses to more than 1000 bytes',
    });
    expect((await lzma2Decompress(out, IMGTOOL_LZMA2, false, thumb.length)).length).toBe(thumb.length);
  });

  it('a damaged stream is an ImageError', async () => {
    const out = await lzma2Compress(thumb, false);
    const bad = out.slice(0, 100);
    bad[0] = 0xff;
    await expect(lzma2Decompress(bad, IMGTOOL_LZMA2, false, thumb.length)).rejects.toThrow(/^the LZMA2 stream is damaged: ./);
  });
});

describe('signImage --compression', () => {
  it('Ed25519: the compressed image decompresses to exactly the uncompressed image', async () => {
    for (const compression of ['lzma2', 'lzma2armthumb'] as const) {
      const plain = await signImage(thumb, { ...base, key: ed25519 });
      const packed = await signImage(thumb, { ...base, key: ed25519, compression });
      expect(packed.compression).toMatchObject({ used: true, originalSize: thumb.length, compressedSize: lz(`thumb.${compression}`).length });
      const img = parseImage(packed.image);
      const armFlag = compression === 'lzma2armthumb' ? IMAGE_FLAGS.COMPRESSED_ARM_THUMB_FLT : 0;
      expect(img.header.flags).toBe(IMAGE_FLAGS.COMPRESSED_LZMA2 | armFlag);
      expect(isCompressedImage(img.header.flags)).toBe(true);
      // Body: imgtool's header room, its two LZMA2 header bytes, then liblzma's stream.
      const body = packed.image.subarray(0x200, 0x200 + img.header.imgSize);
      expect(toHex(body)).toBe(toHex(new Uint8Array([10, 102, ...lz(`thumb.${compression}`)])));
      expect(packed.image.subarray(32, 0x200).every((b) => b === 0xff)).toBe(true);
      const plainImg = parseImage(plain.image);
      expect(img.protectedArea?.tlvs.map((t) => t.type)).toEqual([TLV_TYPES.DECOMP_SIZE, TLV_TYPES.DECOMP_SHA, TLV_TYPES.DECOMP_SIGNATURE]);
      const prot = (type: number) => img.protectedArea!.tlvs.find((t) => t.type === type)!.value;
      expect([...prot(TLV_TYPES.DECOMP_SIZE)]).toEqual([...new Uint8Array(new Uint32Array([thumb.length]).buffer)]);
      expect(toHex(prot(TLV_TYPES.DECOMP_SHA))).toBe(toHex(plainImg.hash!));
      expect(toHex(prot(TLV_TYPES.DECOMP_SIGNATURE))).toBe(toHex(plain.signature!));
      // The compressed image is itself hashed and signed.
      expect((await verifyImage(packed.image, { key: ed25519 })).signatureOk).toBe(true);
      expect(toHex(await decompressImage(packed.image))).toBe(toHex(plain.image));
      // What a device lists once it has installed the image (the CLI's and the web app's upgrade check it).
      expect(toHex(installedImageHash(img)!)).toBe(toHex(plainImg.hash!));
      expect(toHex(installedImageHash(plainImg)!)).toBe(toHex(plainImg.hash!));
    }
  });

  it('SHA-512 and SHA-384 images: DECOMP_SHA of 64 and 48 bytes, rebuilt with the matching hash TLV', async () => {
    const p384 = generateKey('ecdsa-p384');
    for (const opts of [{ key: ed25519, sha: 512 as const }, { key: p384 }]) {
      const packed = await signImage(thumb, { ...base, ...opts, compression: 'lzma2' });
      const plain = await decompressImage(packed.image);
      const p = parseImage(plain);
      expect(p.hashAlgorithm).toBe(opts.key === ed25519 ? 'sha512' : 'sha384');
      expect((await verifyImage(plain, { key: opts.key })).signatureOk).toBe(true);
    }
  });

  it('ECDSA P-256 with protected TLVs: the DECOMP_* entries sit after the dependencies, and both images verify', async () => {
    const opts: CreateImageOptions = {
      ...base,
      key: p256,
      securityCounter: 'auto',
      dependencies: [{ image: 1, version: '1.0.0' }],
      customTlvs: [{ type: 0xa0, value: new Uint8Array([1, 2]), protected: true }],
    };
    const packed = await signImage(thumb, { ...opts, compression: 'lzma2armthumb' });
    const img = parseImage(packed.image);
    expect(img.protectedArea?.tlvs.map((t) => t.type)).toEqual([
      TLV_TYPES.SEC_CNT,
      TLV_TYPES.DEPENDENCY,
      TLV_TYPES.DECOMP_SIZE,
      TLV_TYPES.DECOMP_SHA,
      TLV_TYPES.DECOMP_SIGNATURE,
      0xa0,
    ]);
    expect((await verifyImage(packed.image, { key: p256 })).signatureOk).toBe(true);
    const plain = await decompressImage(packed.image);
    const p = parseImage(plain);
    expect(p.header.flags).toBe(0);
    expect(p.header.imgSize).toBe(thumb.length);
    expect(p.protectedArea?.tlvs.map((t) => t.type)).toEqual([TLV_TYPES.SEC_CNT, TLV_TYPES.DEPENDENCY, 0xa0]);
    expect(toHex(plain.subarray(0x200, 0x200 + thumb.length))).toBe(toHex(thumb));
    const r = await verifyImage(plain, { key: p256 });
    expect(r.ok && r.signatureOk).toBe(true);
  });

  it('hash-only, big-endian: DECOMP_SIZE in the image byte order, no DECOMP_SIGNATURE', async () => {
    const packed = await signImage(thumb, { ...base, endian: 'big', compression: 'lzma2' });
    const img = parseImage(packed.image);
    expect(img.protectedArea?.tlvs.map((t) => t.type)).toEqual([TLV_TYPES.DECOMP_SIZE, TLV_TYPES.DECOMP_SHA]);
    const size = img.protectedArea!.tlvs[0]!.value;
    expect(new DataView(size.buffer, size.byteOffset).getUint32(0, false)).toBe(thumb.length);
    expect(toHex(await decompressImage(packed.image))).toBe(toHex((await signImage(thumb, { ...base, endian: 'big' })).image));
  });

  it('padding and the slot check apply to the compressed image: it fits a slot the uncompressed image does not', async () => {
    const slotSize = 0x8000; // thumb.bin alone is 0xbffc
    const packed = await signImage(thumb, { ...base, slotSize, pad: true, compression: 'lzma2armthumb' });
    expect(packed.image.length).toBe(slotSize);
    await expect(signImage(thumb, { ...base, slotSize, pad: true })).rejects.toMatchObject({ code: 'too-large' });
  });

  it('keeps the uncompressed image when compression saves nothing', async () => {
    const noise = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    const random = crypto.getRandomValues(new Uint8Array(4096));
    for (const input of [noise, random]) {
      const packed = await signImage(input, { ...base, key: ed25519, compression: 'lzma2' });
      const plain = await signImage(input, { ...base, key: ed25519 });
      if (packed.compression!.used) continue;
      expect(toHex(packed.image)).toBe(toHex(plain.image));
    }
    const packed = await signImage(random, { ...base, compression: 'lzma2' });
    expect(packed.compression?.used).toBe(false);
    expect(isCompressedImage(parseImage(packed.image).header.flags)).toBe(false);
  });

  it('refuses what MCUboot cannot decompress', async () => {
    await expect(signImage(thumb, { ...base, padHeader: false, compression: 'lzma2' })).rejects.toThrow(/--pad-header/);
    const enc = fxText('keys/ecdsa-p256.pub.pem');
    await expect(signImage(thumb, { ...base, key: p256, encryption: { key: enc }, compression: 'lzma2' })).rejects.toThrow(/compressed and encrypted/);
    expect(() => createImage(thumb, { ...base, compression: 'lzma2' })).toThrow(/signImage/);
  });
});

describe('decompressImage refuses a bad compressed image', () => {
  const packedOnce = signImage(thumb, { ...base, key: ed25519, compression: 'lzma2' }).then((r) => r.image);

  it('an uncompressed image', async () => {
    await expect(decompressImage((await signImage(thumb, base)).image)).rejects.toThrow(/not compressed/);
  });

  it('a DECOMP_SIZE beyond the caller’s bound, or a wrong one', async () => {
    const packed = await packedOnce;
    await expect(decompressImage(packed, 1000)).rejects.toMatchObject({ code: 'too-large' });
    const img = parseImage(packed);
    const sizeTlv = img.protectedArea!.tlvs.find((t) => t.type === TLV_TYPES.DECOMP_SIZE)!;
    for (const size of [thumb.length - 1, thumb.length + 1]) {
      const bad = packed.slice();
      new DataView(bad.buffer).setUint32(sizeTlv.offset + 4, size, true);
      await expect(decompressImage(bad)).rejects.toBeInstanceOf(ImageError);
    }
  });

  it('the bound is inclusive: exactly DECOMP_SIZE bytes may be decompressed', async () => {
    expect((await decompressImage(await packedOnce, thumb.length)).length).toBeGreaterThan(thumb.length);
  });

  it('a stream shorter than DECOMP_SIZE says so', async () => {
    const packed = (await packedOnce).slice();
    const sizeTlv = parseImage(packed).protectedArea!.tlvs.find((t) => t.type === TLV_TYPES.DECOMP_SIZE)!;
    new DataView(packed.buffer).setUint32(sizeTlv.offset + 4, thumb.length + 1, true);
    await expect(decompressImage(packed)).rejects.toThrow(`the image decompresses to ${thumb.length} bytes, DECOMP_SIZE says ${thumb.length + 1}`);
  });

  it('compressed flags without DECOMP_* TLVs, an LZMA1 flag, a missing DECOMP_SIGNATURE', async () => {
    const flagged = (flags: number, decompressed?: { size: number; hash: Uint8Array }) =>
      completeImage(prepareImage(new Uint8Array(64), { ...base, flags }, undefined, decompressed));
    await expect(decompressImage(flagged(IMAGE_FLAGS.COMPRESSED_LZMA2))).rejects.toThrow('compressed image without a 4-byte DECOMP_SIZE TLV');
    await expect(decompressImage(flagged(IMAGE_FLAGS.COMPRESSED_LZMA1))).rejects.toThrow(/LZMA1-compressed images are not supported/);
    // A file claiming more than any slot holds is refused before anything is decompressed.
    await expect(decompressImage(flagged(IMAGE_FLAGS.COMPRESSED_LZMA2, { size: 64 * 1024 * 1024 + 1, hash: new Uint8Array(32) }))).rejects.toThrow(
      'the image decompresses to 67108865 bytes (DECOMP_SIZE), more than the 67108864 it may take',
    );
    await expect(decompressImage(flagged(IMAGE_FLAGS.COMPRESSED_LZMA2, { size: 64, hash: new Uint8Array(20) }))).rejects.toThrow(
      'compressed image without a DECOMP_SHA TLV of 32, 48 or 64 bytes',
    );
    const renamed = async (type: number) => {
      const bytes = (await packedOnce).slice();
      bytes[parseImage(bytes).protectedArea!.tlvs.find((t) => t.type === type)!.offset] = 0x7e;
      return bytes;
    };
    await expect(decompressImage(await renamed(TLV_TYPES.DECOMP_SIZE))).rejects.toThrow('compressed image without a 4-byte DECOMP_SIZE TLV');
    await expect(decompressImage(await renamed(TLV_TYPES.DECOMP_SHA))).rejects.toThrow('compressed image without a DECOMP_SHA TLV of 32, 48 or 64 bytes');
    await expect(decompressImage(await renamed(TLV_TYPES.DECOMP_SIGNATURE))).rejects.toThrow(
      'compressed image has a ED25519 signature but no DECOMP_SIGNATURE TLV',
    );
  });

  it('COMP_DEC_SIZE (newer imgtool, encrypted compressed images) is left out of the rebuilt image, as MCUboot does', async () => {
    const plain = await signImage(thumb, base);
    const size = new Uint8Array(new Uint32Array([thumb.length]).buffer);
    const prep = prepareImage(
      await compressedBody(thumb, 'lzma2'),
      { ...base, flags: compressionFlags('lzma2'), customTlvs: [{ type: TLV_TYPES.COMP_DEC_SIZE, value: size, protected: true }] },
      undefined,
      { size: thumb.length, hash: parseImage(plain.image).hash! },
    );
    expect(toHex(await decompressImage(completeImage(prep)))).toBe(toHex(plain.image));
  });

  it('a DECOMP_SHA that the decompressed image does not match', async () => {
    const packed = (await packedOnce).slice();
    const sha = parseImage(packed).protectedArea!.tlvs.find((t) => t.type === TLV_TYPES.DECOMP_SHA)!;
    packed[sha.offset + 4] ^= 1;
    await expect(decompressImage(packed)).rejects.toMatchObject({ code: 'hash-mismatch' });
  });

  it('a body that is not LZMA2', async () => {
    const packed = (await packedOnce).slice();
    packed[0x200] = 41;
    await expect(decompressImage(packed)).rejects.toThrow(/LZMA2 header/);
    const damaged = (await packedOnce).slice();
    damaged.fill(0x55, 0x210, 0x400);
    await expect(decompressImage(damaged)).rejects.toBeInstanceOf(ImageError);
  });
});
