/**
 * MCUboot with image decompression on the virtual device's flash (src/device/compressed-image.ts): a pending
 * LZMA2-compressed image is checked and written decompressed to the primary slot in overwrite-only mode; every other
 * build refuses it with a reason, and the running image stays.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DeviceConfigInput } from '../../src/device/config.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { readSlotImage } from '../../src/device/slot-image.js';
import {
  generateKey,
  IMAGE_FLAGS,
  keyFileSigner,
  parseImage,
  signImage,
  TLV_TYPES,
  type CreateImageOptions,
  type ImageCompression,
  type ImageSigner,
  verifyImage,
} from '../../src/image/node.js';
import { McubootMode } from '../../src/groups/bootloader-modes.js';
import { hex, makeDevice } from './helpers.js';

const fixture = (path: string) => readFileSync(fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url)));
const thumb = new Uint8Array(fixture('lzma2/thumb.bin'));
const ed25519 = fixture('mcuboot-images/keys/ed25519.pem').toString();
const ed25519Pub = fixture('mcuboot-images/keys/ed25519.pub.pem').toString();
const p256 = fixture('mcuboot-images/keys/ecdsa-p256.pem').toString();
const p256Pub = fixture('mcuboot-images/keys/ecdsa-p256.pub.pem').toString();
const rsa = fixture('mcuboot-images/keys/rsa-2048.pem').toString();

const base: CreateImageOptions = { version: '2.0.0', headerSize: 0x200, padHeader: true };
/** Offset of ih_flags in the image header. */
const FLAGS_AT = 16;
const OVERWRITE: DeviceConfigInput = { mcubootMode: McubootMode.OVERWRITE_ONLY, decompressImages: true };

async function compressed(key?: string, compression: ImageCompression = 'lzma2armthumb', payload = thumb, signer?: ImageSigner): Promise<Uint8Array> {
  const r = await signImage(payload, { ...base, ...(key ? { key } : {}), ...(signer ? { signer } : {}), compression });
  expect(r.compression?.used).toBe(true);
  return r.image;
}

/** Writes `image` to the secondary slot of image 0 and marks it for a test upgrade (`image test`). */
function pending(dev: VirtualDevice, image: Uint8Array): void {
  dev.flash.erase(1);
  dev.flash.write(1, 0, image);
  dev.flash.writeTrailer(1, { magic: true });
}

/** Boots with `image` pending; expects it refused with a reason matching `reason`, the primary slot untouched. */
async function expectRefused(dev: VirtualDevice, image: Uint8Array, reason: RegExp): Promise<void> {
  const before = Buffer.from(dev.flash.read(0));
  pending(dev, image);
  const events = await dev.reset();
  expect(events).toEqual([{ image: 0, action: 'rejected', reason: expect.stringMatching(reason) }]);
  expect(dev.flash.read(0).equals(before)).toBe(true);
  expect(readSlotImage(dev.flash.read(1))).toBeUndefined();
  expect(await dev.reset()).toEqual([{ image: 0, action: 'none' }]);
}

/** Changes an image's bytes, then sets its SHA-256 TLV to what the changed bytes hash to (its signature, if any, no longer holds). */
function patched(image: Uint8Array, change: (bytes: Uint8Array, tlvValueAt: (type: number) => number) => void): Uint8Array {
  const bytes = image.slice();
  const img = parseImage(bytes);
  const tlvs = [...(img.protectedArea?.tlvs ?? []), ...img.unprotectedArea.tlvs];
  change(bytes, (type) => tlvs.find((t) => t.type === type)!.offset + 4);
  const after = parseImage(bytes);
  const sha = after.unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.SHA256)!;
  bytes.set(createHash('sha256').update(bytes.subarray(0, after.signedSize)).digest(), sha.offset + 4);
  return bytes;
}

describe('overwrite-only MCUboot with image decompression', () => {
  it.each([
    ['lzma2armthumb', 'Ed25519', ed25519, ed25519Pub],
    ['lzma2', 'ECDSA P-256', p256, p256Pub],
  ] as const)('%s, %s: the primary slot receives the image as signed without compression; the secondary is erased', async (compression, name, key, pub) => {
    const plain = (await signImage(thumb, { ...base, key })).image;
    const dev = makeDevice({ config: { ...OVERWRITE, verificationKey: pub } });
    pending(dev, await compressed(key, compression));
    expect(await dev.reset()).toEqual([{ image: 0, action: 'perm' }]);
    const primary = dev.flash.read(0);
    const installed = readSlotImage(primary)!;
    // Ed25519 signs deterministically: the whole image is the same; an ECDSA signature (and its length) differs run to run.
    const same = name === 'Ed25519' ? plain.length : parseImage(plain).signedSize;
    expect(primary.subarray(0, same).equals(plain.subarray(0, same))).toBe(true);
    expect(hex(installed.hash)).toBe(hex(parseImage(plain).hash!));
    expect(await verifyImage(primary.subarray(0, installed.size), { key: pub })).toMatchObject({ ok: true, hashOk: true, signatureOk: true });
    expect(primary.subarray(installed.size, dev.flash.slotSize - dev.flash.trailerSize).every((b) => b === 0xff)).toBe(true);
    expect(dev.flash.readTrailer(0)).toMatchObject({ magic: 'good', copyDone: 'set', imageOk: 'set' });
    expect(dev.flash.read(1).every((b) => b === 0xff)).toBe(true);
    expect(await dev.reset()).toEqual([{ image: 0, action: 'none' }]);
  });

  it('a device without a verification key checks hashes only, and still copies a plain image as it is', async () => {
    const dev = makeDevice({ config: OVERWRITE });
    pending(dev, await compressed(rsa));
    expect(await dev.reset()).toEqual([{ image: 0, action: 'perm' }]);
    // RSA-PSS signatures are salted: the signed part is the same, and the signature is DECOMP_SIGNATURE.
    const rsaImage = (await signImage(thumb, { ...base, key: rsa })).image;
    const signedSize = parseImage(rsaImage).signedSize;
    expect(dev.flash.read(0).subarray(0, signedSize).equals(rsaImage.subarray(0, signedSize))).toBe(true);
    const plain = (await signImage(thumb, { ...base, version: '3.0.0' })).image;
    pending(dev, plain);
    expect(await dev.reset()).toEqual([{ image: 0, action: 'perm' }]);
    expect(dev.flash.read(0).subarray(0, plain.length).equals(plain)).toBe(true);
  });

  it('refuses an image signed by another key, or whose DECOMP_SIGNATURE is by another key', async () => {
    const dev = makeDevice({ config: { ...OVERWRITE, verificationKey: ed25519Pub } });
    await expectRefused(dev, await compressed(p256), /compressed image's hash or signature does not verify/);
    // The uncompressed image (DECOMP_SIGNATURE) signed by another key, the compressed one by the device's key.
    const other = keyFileSigner(generateKey('ed25519'));
    const own = keyFileSigner(ed25519);
    let calls = 0;
    const mixed: ImageSigner = { keyType: own.keyType, publicKey: own.publicKey, sign: (req) => (calls++ === 0 ? other : own).sign(req) };
    await expectRefused(dev, await compressed(undefined, 'lzma2', thumb, mixed), /DECOMP_SIGNATURE is not a signature by this device's key/);
  });

  it('refuses an unsigned compressed image: MCUboot needs DECOMP_SIGNATURE', async () => {
    await expectRefused(makeDevice({ config: OVERWRITE }), await compressed(), /DECOMP_SIGNATURE/);
  });

  it('refuses an image that decompresses wrong, and never decompresses past its bound', async () => {
    const dev = makeDevice({ config: OVERWRITE });
    const image = await compressed(ed25519);
    const littleEndian = (value: number) => new Uint8Array(new Uint32Array([value]).buffer);
    const cases: [string, (bytes: Uint8Array, at: (type: number) => number) => void, RegExp][] = [
      ['a wrong DECOMP_SHA', (b, at) => (b[at(TLV_TYPES.DECOMP_SHA)]! ^= 1), /does not match DECOMP_SHA/],
      ['a damaged LZMA2 stream', (b) => b.fill(0x55, 0x210, 0x400), /cannot decompress the image/],
      [
        'a DECOMP_SIZE smaller than the stream',
        (b, at) => b.set(littleEndian(1000), at(TLV_TYPES.DECOMP_SIZE)),
        /cannot decompress the image: .*more than 1000 bytes/,
      ],
      ['a DECOMP_SIZE of 4 GiB', (b, at) => b.set(littleEndian(0xffffffff), at(TLV_TYPES.DECOMP_SIZE)), /too large for the 0x40000-byte primary slot/],
      ['LZMA1 flags', (b) => b.set(littleEndian(IMAGE_FLAGS.COMPRESSED_LZMA1), FLAGS_AT), /LZMA1/],
      ['encryption flags', (b) => b.set(littleEndian(IMAGE_FLAGS.COMPRESSED_LZMA2 | IMAGE_FLAGS.ENCRYPTED_AES128), FLAGS_AT), /compressed and encrypted/],
    ];
    for (const [, change, reason] of cases) await expectRefused(dev, patched(image, change), reason);
  });

  it('refuses an image too large for the primary slot decompressed, with or without its unprotected TLVs', async () => {
    // thumb.bin is 0xbffc bytes: with its 0x200-byte header it does not fit a 0xc000-byte slot.
    await expectRefused(makeDevice({ config: { ...OVERWRITE, slotSize: 0xc000 } }), await compressed(ed25519), /too large for the 0xc000-byte primary slot/);
    // Header, body and protected TLVs fit (MCUboot's check); the TLVs after them would reach into the trailer.
    const dev = makeDevice({ config: { ...OVERWRITE, slotSize: 0xd000 } });
    const room = dev.flash.slotSize - dev.flash.trailerSize;
    const payload = new Uint8Array(room - 0x200 - 20).map((_, i) => thumb[i % thumb.length]!);
    await expectRefused(dev, await compressed(ed25519, 'lzma2', payload), /reaches into the primary slot's trailer/);
  });
});

describe('MCUboot builds that cannot decompress refuse a compressed image (loader.c boot_is_header_valid)', () => {
  it.each([
    ['overwrite-only without decompression', { mcubootMode: McubootMode.OVERWRITE_ONLY }, /no image decompression/],
    ['swap using move without decompression', { mcubootMode: McubootMode.SWAP_MOVE }, /no image decompression/],
    [
      'swap using move with decompression',
      { mcubootMode: McubootMode.SWAP_MOVE, decompressImages: true },
      /only in overwrite-only mode, not in swap using move/,
    ],
    ['swap using scratch with decompression', { mcubootMode: McubootMode.SWAP_SCRATCH, decompressImages: true }, /only in overwrite-only mode/],
  ] as const)('%s', async (_name, config, reason) => {
    await expectRefused(makeDevice({ config: { ...config, verificationKey: ed25519Pub } }), await compressed(ed25519), reason);
  });

  it('direct-XIP passes over a newer compressed image and boots the other slot', async () => {
    const dev = makeDevice({ config: { mcubootMode: McubootMode.DIRECT_XIP, decompressImages: true } });
    dev.flash.write(1, 0, await compressed(ed25519));
    expect(await dev.reset()).toEqual([
      { image: 0, action: 'rejected', slot: 0, reason: expect.stringMatching(/only in overwrite-only mode, not in direct XIP/) },
    ]);
    expect(readSlotImage(dev.flash.read(1))).toBeUndefined();
  });
});
