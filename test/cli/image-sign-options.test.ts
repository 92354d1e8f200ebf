/** `mcumgr image sign` with imgtool's own command lines, and the imgtool 2.x options 1.10's vectors do not cover. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseImage, parseTrailer, ihexToBinary, TLV_TYPES, IMAGE_FLAGS } from '../../src/image/node.js';
import { ROOT, run, tempDir } from './helpers.js';

const IMAGES = join(ROOT, 'test/fixtures/mcuboot-images');
interface ManifestImage {
  file: string;
  signer: string;
  sign: { command: string };
}
const manifest = JSON.parse(readFileSync(join(IMAGES, 'manifest.json'), 'utf8')) as { images: ManifestImage[] };

describe("imgtool 1.10's command lines give imgtool's bytes", () => {
  for (const m of manifest.images.filter((i) => i.signer === 'hash-only' || i.signer === 'ed25519')) {
    it(m.sign.command, async () => {
      const dir = tempDir();
      // "imgtool sign ARGS IN OUT", run from the fixtures folder as it was made.
      const args = m.sign.command
        .split(/\s+/)
        .slice(2)
        .map((a) => (a.endsWith('.bin') || a.endsWith('.pem') ? join(IMAGES, a) : a));
      args[args.length - 1] = join(dir, 'out.bin');
      const r = await run(['image', 'sign', ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(dir, 'out.bin')).equals(readFileSync(join(IMAGES, m.file)))).toBe(true);
    });
  }
});

const PAYLOAD = join(IMAGES, 'payload.bin');
const ED = join(IMAGES, 'keys/ed25519.pem');
const sign = async (args: string[], out = join(tempDir(), 'out.bin')) => {
  const r = await run(['image', 'sign', '-v', '1.2.3', '--pad-header', '-H', '0x200', ...args, PAYLOAD, out]);
  return { ...r, out, bytes: existsSync(out) ? new Uint8Array(readFileSync(out)) : undefined };
};

describe('imgtool 2.x options (implemented from its source; no imgtool 2.x output to compare with)', () => {
  it('protected TLVs in imgtool order: SEC_CNT (auto from the version), BOOT_RECORD, DEPENDENCY, UUID_VID/CID, custom', async () => {
    const r = await sign([
      '-k',
      ED,
      '-s',
      'auto',
      '--boot-record',
      'SPE',
      '-d',
      '(1,2.0.0+3), (2, 1.5.0)',
      '--vid',
      'example.com',
      '--cid',
      'app',
      '--custom-tlv',
      '0xa0',
      '0x0102',
      '--custom-tlv',
      '0x1a1',
      'hello',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const img = parseImage(r.bytes!);
    expect(img.protectedArea!.tlvs.map((t) => t.type)).toEqual([
      TLV_TYPES.SEC_CNT,
      TLV_TYPES.BOOT_RECORD,
      TLV_TYPES.DEPENDENCY,
      TLV_TYPES.DEPENDENCY,
      TLV_TYPES.UUID_VID,
      TLV_TYPES.UUID_CID,
      0xa0,
      0x1a1,
    ]);
    const [sec, boot, dep1, dep2, vid, cid, a0, a1] = img.protectedArea!.tlvs.map((t) => Buffer.from(t.value));
    expect(sec!.readUInt32LE(0)).toBe((1 << 24) + (2 << 16) + 3);
    // CBOR map {1: "SPE", 4: "1.2.3", 5: key hash, 6: "SHA256", 2: 32 zero bytes}
    expect(boot!.subarray(0, 13).toString('hex')).toBe('a5' + '0163535045' + '0465312e322e33');
    expect(dep1!.toString('hex')).toBe('01000000' + '0200' + '0000' + '03000000');
    expect(dep2!.toString('hex')).toBe('02000000' + '0105' + '0000' + '00000000');
    // UUIDv5(DNS, "example.com") and UUIDv5(vid, "app"), as Python's uuid.uuid5 gives.
    expect(vid!.toString('hex')).toBe('cfbff0d193755685968c48ce8b15ae17');
    expect(cid!.length).toBe(16);
    expect(cid![6]! >> 4).toBe(5);
    expect([...a0!]).toEqual([1, 2]);
    expect(a1!.toString()).toBe('hello');
  });

  it('--custom-tlv-file takes the value from a binary file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 1, 0xfe, 0xff]));
    const r = await sign(['--custom-tlv', '0xa0', 'x', '--custom-tlv-file', '0xa1', join(dir, 'blob.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(parseImage(r.bytes!).protectedArea!.tlvs.map((t) => [t.type, [...t.value]])).toEqual([
      [0xa0, [0x78]],
      [0xa1, [0, 1, 0xfe, 0xff]],
    ]);
    expect((await sign(['--custom-tlv-file', '0xa1', join(dir, 'missing.bin')])).stderr).toMatch(/no such file/);
  });

  it('custom TLV rules: vendor range only, no predefined type, no duplicate', async () => {
    for (const [tag, msg] of [
      ['0x10', /conflicts with a predefined TLV/],
      ['0x99', /allowed values are 0x00a0 to 0xfffe/],
      ['0xffff', /allowed values/],
    ] as const) {
      const r = await sign(['--custom-tlv', tag, '0x01']);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(msg);
      expect(r.bytes).toBeUndefined();
    }
    expect((await sign(['--custom-tlv', '0xa0', '0x01', '--custom-tlv', '0xa0', 'x'])).stderr).toMatch(/given twice/);
    expect((await sign(['--custom-tlv', '0xa0', '0x123'])).stderr).toMatch(/even number of hex digits/);
  });

  it('--sha 512 and --pure with Ed25519; --sha a key does not allow is refused', async () => {
    const sha512 = parseImage((await sign(['-k', ED, '--sha', '512'])).bytes!);
    expect(sha512.tlvs.map((t) => t.name)).toEqual(['SHA512', 'KEYHASH', 'ED25519']);
    expect(sha512.tlvs[1]!.value.length).toBe(64);
    const pure = await sign(['-k', ED, '--pure']);
    expect(parseImage(pure.bytes!).tlvs.map((t) => t.name)).toEqual(['SHA512', 'SIG_PURE', 'KEYHASH', 'ED25519']);
    const bad = await sign(['-k', join(IMAGES, 'keys/ecdsa-p256.pem'), '--sha', '384']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/ecdsa-p256 key cannot be used with --sha 384; allowed: 256/);
    expect((await sign(['-k', join(IMAGES, 'keys/ecdsa-p256.pem'), '--pure'])).stderr).toMatch(/--pure needs an Ed25519 key/);
  });

  it('header flags: --non-bootable, -L (RAM_LOAD), -F (ROM_FIXED); both addresses together is an error', async () => {
    expect(parseImage((await sign(['--non-bootable'])).bytes!).header.flags).toBe(IMAGE_FLAGS.NON_BOOTABLE);
    expect(parseImage((await sign(['-L', '0x20000000'])).bytes!).header).toMatchObject({ flags: IMAGE_FLAGS.RAM_LOAD, loadAddr: 0x20000000 });
    expect(parseImage((await sign(['-F', '0x8000'])).bytes!).header).toMatchObject({ flags: IMAGE_FLAGS.ROM_FIXED, loadAddr: 0x8000 });
    expect((await sign(['-L', '0x1000', '-F', '0x8000'])).stderr).toMatch(/cannot set --rom-fixed and --load-addr/);
  });

  it('trailers: --max-align 16 writes the alternative magic; -R 0 erases to zero; --overwrite-only needs little room', async () => {
    const a16 = (await sign(['-S', '0x10000', '--confirm', '--align', '16', '--max-align', '16'])).bytes!;
    expect(Buffer.from(a16.subarray(-16)).toString('hex')).toBe('10002de15d29410b8d77679c110f1f8a');
    expect(parseTrailer(a16, 16).imageOk).toBe('set');
    const zero = (await sign(['-S', '0x10000', '--pad', '-R', '0'])).bytes!;
    expect(zero[zero.length - 17]).toBe(0);
    expect(zero.subarray(0x200, 0x200 + 4).every((b) => b === 0)).toBe(false); // payload stays
    // a 0x2a28-byte image: with the default trailer (align 1, 128 sectors: 0x1b0) it needs 0x2bd8, overwrite-only's 0x20 fits
    expect((await sign(['-S', '0x2c00'])).code).toBe(0);
    const tooBig = await sign(['-S', '0x2b00']);
    expect(tooBig.code).toBe(64);
    expect(tooBig.stderr).toMatch(/image size \(0x2a28\) \+ trailer \(0x1b0\) exceeds the slot size 0x2b00/);
    expect(tooBig.bytes).toBeUndefined();
    expect((await sign(['-S', '0x2b00', '--overwrite-only'])).code).toBe(0);
  });

  it('--pad-sig pads ECDSA P-256 signatures to 72 bytes', async () => {
    for (let i = 0; i < 3; i++) {
      const img = parseImage((await sign(['-k', join(IMAGES, 'keys/ecdsa-p256.pem'), '--pad-sig'])).bytes!);
      expect(img.tlvs.find((t) => t.type === TLV_TYPES.ECDSA_SIG)!.value.length).toBe(72);
    }
  });

  it('.hex output: the image at its address and, padded, only the trailer magic at the slot end', async () => {
    const dir = tempDir();
    const plain = await sign(['-x', '0x8000'], join(dir, 'a.hex'));
    expect(plain.code, plain.stderr).toBe(0);
    const h = ihexToBinary(readFileSync(join(dir, 'a.hex'), 'utf8'));
    expect(h.address).toBe(0x8000);
    expect(parseImage(h.data).header.imgSize).toBe(10240);
    const padded = await sign(['-x', '0x8000', '-S', '0x4000', '--confirm'], join(dir, 'b.hex'));
    expect(padded.code).toBe(0);
    const text = readFileSync(join(dir, 'b.hex'), 'utf8');
    // The last data records are image_ok (8 bytes at 0xbfe8) and the magic (16 bytes at 0xbff0).
    expect(text).toMatch(/:08BFE80001FFFFFFFFFFFFFF[0-9A-F]{2}\n:10BFF00077C295F360D2EF7F3552500F2CB67980[0-9A-F]{2}\n:00000001FF\n$/);
    // info and verify read it back: the gap is erased flash, so it is the padded .bin image
    const bin = await sign(['-S', '0x4000', '--confirm']);
    const info = await run(['image', 'info', '-f', 'json', join(dir, 'b.hex')]);
    expect(JSON.parse(info.stdout)).toEqual(JSON.parse((await run(['image', 'info', '-f', 'json', bin.out])).stdout));
    expect((await run(['image', 'verify', join(dir, 'b.hex')])).code).toBe(0);
    expect((await sign([], join(dir, 'c.hex'))).stderr).toMatch(/needs an address/);
  });

  it('Intel HEX input keeps its address for a .hex output (minus the header it gains)', async () => {
    const dir = tempDir();
    const { binaryToIhex } = await import('../../src/image/node.js');
    writeFileSync(join(dir, 'in.hex'), binaryToIhex(0x10200, readFileSync(PAYLOAD)));
    const r = await run(['image', 'sign', '-v', '1.0.0', '--pad-header', '-H', '0x200', join(dir, 'in.hex'), join(dir, 'out.hex')]);
    expect(r.code, r.stderr).toBe(0);
    expect(ihexToBinary(readFileSync(join(dir, 'out.hex'), 'utf8')).address).toBe(0x10000);
  });

  it('--compression lzma2armthumb: a compressed image that info names and verify checks both ways', async () => {
    const dir = tempDir();
    const THUMB = join(ROOT, 'test/fixtures/lzma2/thumb.bin');
    const P256 = join(IMAGES, 'keys/ecdsa-p256.pem');
    const out = join(dir, 'c.bin');
    const r = await run([
      'image',
      'sign',
      '-k',
      P256,
      '-v',
      '1.2.3',
      '--pad-header',
      '-H',
      '0x200',
      '-S',
      '0x10000',
      '--compression',
      'lzma2armthumb',
      THUMB,
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compressed: lzma2armthumb, 22064 of 49148 bytes/);
    const img = parseImage(new Uint8Array(readFileSync(out)));
    expect(img.header.flags).toBe(IMAGE_FLAGS.COMPRESSED_LZMA2 | IMAGE_FLAGS.COMPRESSED_ARM_THUMB_FLT);
    const info = await run(['image', 'info', out]);
    expect(info.stdout).toMatch(/flags: 0xc00 \(COMPRESSED_LZMA2, COMPRESSED_ARM_THUMB_FLT\)/);
    expect(info.stdout).toMatch(/DECOMP_SIGNATURE/);
    const pub = join(IMAGES, 'keys/ecdsa-p256.pub.pem');
    const ok = await run(['--json', 'image', 'verify', '-k', pub, out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, signatureOk: true, decompressed: { hashOk: true, signatureOk: true } });
    // A hash-only compressed image whose own hash holds but whose DECOMP_SHA does not: the decompressed check fails.
    const plain = join(dir, 'h.bin');
    expect((await run(['image', 'sign', '-v', '1.2.3', '--pad-header', '-H', '0x200', '--compression', 'lzma2', THUMB, plain])).code).toBe(0);
    const bytes = new Uint8Array(readFileSync(plain));
    const himg = parseImage(bytes);
    const decompSha = himg.protectedArea!.tlvs.find((t) => t.type === TLV_TYPES.DECOMP_SHA)!;
    bytes[decompSha.offset + 4] ^= 1;
    bytes.set(createHash('sha256').update(bytes.subarray(0, himg.signedSize)).digest(), himg.unprotectedArea.tlvs[0]!.offset + 4);
    const tampered = join(dir, 't.bin');
    writeFileSync(tampered, bytes);
    const bad = await run(['image', 'verify', tampered]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/failed verification once decompressed: the decompressed image does not match DECOMP_SHA/);
  });

  it('--compression: kept uncompressed when it saves nothing; refused without --pad-header or with --fix-sig', async () => {
    const dir = tempDir();
    const noise = join(dir, 'noise.bin');
    writeFileSync(noise, crypto.getRandomValues(new Uint8Array(4096)));
    const r = await run(['image', 'sign', '-v', '1.0.0', '--pad-header', '-H', '0x200', '--compression', 'lzma2', noise, join(dir, 'n.bin')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compressed: no \(lzma2 gave \d+ of 4096 bytes/);
    expect(parseImage(new Uint8Array(readFileSync(join(dir, 'n.bin')))).header.flags).toBe(0);
    const noPad = await run(['image', 'sign', '-v', '1.0.0', '--compression', 'lzma2', PAYLOAD, join(dir, 'o.bin')]);
    expect(noPad.code).toBe(64);
    expect(noPad.stderr).toMatch(/--compression needs --pad-header/);
    const fixed = await sign(['--compression', 'lzma2', '--fix-sig', PAYLOAD, '--fix-sig-pubkey', ED]);
    expect(fixed.code).toBe(64);
    expect(fixed.stderr).toMatch(/needs two signatures/);
    expect(existsSync(join(dir, 'o.bin'))).toBe(false);
  });

  it('a payload without header room, a missing key, a key that is not a key: clear errors, exit 64', async () => {
    const dir = tempDir();
    const r1 = await run(['image', 'sign', '-v', '1.0.0', PAYLOAD, join(dir, 'o.bin')]);
    expect(r1.code).toBe(64);
    expect(r1.stderr).toMatch(/must start with 0x20 zero bytes of header room; use padHeader/);
    expect((await sign(['-k', join(dir, 'nope.pem')])).stderr).toMatch(/cannot read the key file/);
    const notKey = await sign(['-k', PAYLOAD]);
    expect(notKey.code).toBe(64);
    expect(notKey.stderr).toMatch(/cannot read key/);
  });
});
