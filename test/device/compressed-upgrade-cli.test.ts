/**
 * `mcumgr image sign --compression` images on an overwrite-only `mcumgr-sim`, all through the real executables over
 * UDP: a device with image decompression installs the image decompressed; one without it, or without the lzma-native
 * package, refuses it with a reason and keeps running its image.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as mcumgr } from '../cli/helpers.js';
import { parseImage, toHex } from '../../src/image/node.js';
import { tempDir } from './helpers.js';
import { listImages, startDevice, upgradeOn, type SimDevice } from './sim-upgrade.js';

const THUMB = fileURLToPath(new URL('../fixtures/lzma2/thumb.bin', import.meta.url));

/** Makes `require('lzma-native')` fail as it does when the optional package is not installed. */
const HIDE_LZMA_NATIVE = `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'lzma-native') throw Object.assign(new Error("Cannot find module 'lzma-native'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`;

describe('LZMA2-compressed images on an overwrite-only MCUboot (mcumgr-sim, UDP)', () => {
  const dir = tempDir('mcumgr-compressed-');
  const signKey = join(dir, 'sign.pem');
  const app = join(dir, 'app.bin');
  const compressed = join(dir, 'app-lzma2armthumb.bin');
  const plain = join(dir, 'app-plain.bin');
  const devices: SimDevice[] = [];

  /** An overwrite-only device checking signatures with `signKey`, its state in `dir`/`name`. */
  async function device(name: string, config: object, env: Record<string, string> = {}): Promise<SimDevice> {
    const home = join(dir, name);
    mkdirSync(home);
    const d = await startDevice(home, { mcubootMode: 2, verificationKeyFile: '../sign.pem', ...config }, env);
    devices.push(d);
    return d;
  }

  const sign = (out: string, extra: string[]) =>
    mcumgr(['image', 'sign', '-k', signKey, '--version', '2.0.0', '--pad-header', '-H', '0x200', ...extra, app, out]);

  beforeAll(async () => {
    expect((await mcumgr(['image', 'keygen', '--type', 'ed25519', '--key', signKey])).code).toBe(0);
    copyFileSync(THUMB, app);
    const packed = await sign(compressed, ['--compression', 'lzma2armthumb']);
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.stdout).toMatch(/compressed: lzma2armthumb, \d+ of 49148 bytes/);
    expect((await sign(plain, [])).code).toBe(0);
  });
  afterAll(async () => {
    for (const d of devices) await d.sim.stop();
  });

  const hashOf = (file: string) => toHex(parseImage(new Uint8Array(readFileSync(file))).hash!);

  it('a device with image decompression installs the image decompressed: slot 0 has the hash of the image signed without --compression', async () => {
    expect(hashOf(compressed)).not.toBe(hashOf(plain));
    const d = await device('decompressing', { decompressImages: true });
    const { report, slots } = await upgradeOn(d, compressed);
    expect(report).toBe('reset: image 0 perm');
    expect(slots).toEqual([expect.objectContaining({ slot: 0, version: '2.0.0', hash: hashOf(plain), active: true, confirmed: true })]);
  });

  it('image upgrade follows the image to its decompressed hash, and knows it runs already the next time', async () => {
    const d = await device('upgrade', { decompressImages: true });
    const r = await mcumgr([...d.conn, '--json', 'image', 'upgrade', compressed]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ upgraded: true, version: '2.0.0' });
    expect((await listImages(d))[0]).toMatchObject({ slot: 0, version: '2.0.0', hash: hashOf(plain) });
    const again = await mcumgr([...d.conn, 'image', 'upgrade', compressed]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/already running; nothing to do/);
  });

  it('a device without image decompression refuses the image and keeps running its own', async () => {
    const d = await device('no-decompression', {});
    const { report, slots } = await upgradeOn(d, compressed);
    expect(report).toMatch(/^reset: image 0 rejected \(the image is LZMA2-compressed and this MCUboot has no image decompression/);
    expect(slots).toEqual([expect.objectContaining({ slot: 0, version: '1.0.0', active: true })]);
  });

  it('a device whose lzma-native package is missing refuses the image and says how to get it', async () => {
    const preload = join(dir, 'hide-lzma-native.cjs');
    writeFileSync(preload, HIDE_LZMA_NATIVE);
    const d = await device('no-lzma-native', { decompressImages: true }, { NODE_OPTIONS: `--require ${preload}` });
    const { report, slots } = await upgradeOn(d, compressed);
    expect(report).toMatch(/^reset: image 0 rejected \(cannot decompress the image: .*npm install lzma-native\)$/);
    expect(slots).toEqual([expect.objectContaining({ slot: 0, version: '1.0.0', active: true })]);
  });
});
