/** `mcumgr image upload dfu_application.zip` against a two-image virtual device over UDP. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, parseImage } from '../../src/image/node.js';
import { dfuZip, makeZip } from '../helpers/zip.js';
import { hex, run, Simulator, tempDir, type ListedSlot } from './helpers.js';

describe('image upload of a dfu_application.zip', () => {
  let sim: Simulator;
  let dir: string;
  const app = createImage(new Uint8Array(randomBytes(20_000)), { version: '2.0.0', padHeader: true });
  const net = createImage(new Uint8Array(randomBytes(9_000)), { version: '3.1.0', padHeader: true });
  const appHash = hex(parseImage(app).hash!);
  const netHash = hex(parseImage(net).hash!);

  beforeAll(async () => {
    sim = await Simulator.start({ config: { images: 2 } });
    dir = tempDir();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  function write(name: string, bytes: Uint8Array): string {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  }

  it('sends each image to its image_index with a report line each; image list shows both in slot 1', async () => {
    // Listed out of order on purpose: the manifest, not the order, decides.
    const zip = write(
      'dfu_application.zip',
      dfuZip([
        { index: 1, name: 'signed_by_mcuboot_and_b0_ipc_radio.bin', bytes: net },
        { index: 0, name: 'zephyr.signed.bin', bytes: app },
      ]),
    );
    const r = await run([...sim.conn, 'image', 'upload', zip]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      `image 0: zephyr.signed.bin, version 2.0.0, ${(app.length / 1024).toFixed(2)} KiB, hash ${appHash}\n` +
        `image 1: signed_by_mcuboot_and_b0_ipc_radio.bin, version 3.1.0, ${(net.length / 1024).toFixed(2)} KiB, hash ${netHash}\n` +
        'Done\n',
    );
    const list = JSON.parse((await run([...sim.conn, '--json', 'image', 'list'])).stdout) as { images: ListedSlot[] };
    const secondary = (n: number) => list.images.find((i) => i.image === n && i.slot === 1);
    expect(secondary(0)).toMatchObject({ version: '2.0.0', hash: appHash });
    expect(secondary(1)).toMatchObject({ version: '3.1.0', hash: netHash });

    // -e is the Go tool's --noerase: nothing is erased, so the device resumes each image it already holds.
    const kept = await run([...sim.conn, '--json', 'image', 'upload', '-e', zip]);
    expect(kept.code, kept.stderr).toBe(0);
    const keptDoc = JSON.parse(kept.stdout) as { images: { resumedFrom: number }[] };
    expect(keptDoc.images.map((i) => i.resumedFrom > 0)).toEqual([true, true]);

    // --json, and --erase erases each image's own secondary slot (slot 2N+1) before its upload.
    const again = await run([...sim.conn, '--json', 'image', 'upload', '--erase', zip]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const doc = JSON.parse(again.stdout) as {
      file: string;
      images: { image: number; file: string; version: string; hash: string; bytes: number; resumedFrom: number }[];
    };
    expect(doc.file).toBe(zip);
    expect(doc.images).toMatchObject([
      { image: 0, file: 'zephyr.signed.bin', version: '2.0.0', hash: appHash, bytes: app.length, resumedFrom: 0 },
      { image: 1, file: 'signed_by_mcuboot_and_b0_ipc_radio.bin', version: '3.1.0', hash: netHash, bytes: net.length, resumedFrom: 0 },
    ]);
  });

  it('a package with a broken image, a missing file or a duplicate index is refused before anything is sent', async () => {
    const other = createImage(new Uint8Array(randomBytes(5_000)), { version: '2.1.0', padHeader: true });
    const tampered = net.slice();
    tampered[600] = tampered[600]! ^ 0xff;
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'tampered.zip',
        dfuZip([
          { index: 0, name: 'app.bin', bytes: other },
          { index: 1, name: 'net.bin', bytes: tampered },
        ]),
        /image 1 \(net\.bin\) is not a valid MCUboot image: image has an invalid hash/,
      ],
      [
        'not-an-image.zip',
        makeZip([
          { name: 'manifest.json', data: new TextEncoder().encode('{"files":[{"image_index":"0","file":"zephyr.bin"}]}') },
          { name: 'zephyr.bin', data: new Uint8Array(randomBytes(4096)) },
        ]),
        /is not a usable dfu_application\.zip: zephyr\.bin: /,
      ],
      [
        'missing.zip',
        makeZip([{ name: 'manifest.json', data: new TextEncoder().encode('{"files":[{"image_index":"0","file":"zephyr.signed.bin"}]}') }]),
        /lists zephyr\.signed\.bin, which is not in the ZIP/,
      ],
      [
        'twice.zip',
        dfuZip([
          { index: 0, name: 'a.bin', bytes: app },
          { index: 0, name: 'b.bin', bytes: net },
        ]),
        /two files for image_index 0/,
      ],
    ];
    const results = await Promise.all(cases.map(([name, bytes]) => run([...sim.conn, 'image', 'upload', write(name, bytes)])));
    results.forEach((r, i) => {
      expect(r, cases[i]![0]).toMatchObject({ code: 64, stdout: '' });
      expect(r.stderr).toMatch(cases[i]![2]);
    });
    // The valid image 0 of tampered.zip was not sent either.
    const list = JSON.parse((await run([...sim.conn, '--json', 'image', 'list'])).stdout) as { images: ListedSlot[] };
    expect(list.images.find((i) => i.image === 0 && i.slot === 1)?.hash).toBe(appHash);
    const zip = join(dir, 'dfu_application.zip');
    const [withN, upgradeWithN] = await Promise.all([
      run([...sim.conn, 'image', 'upload', '-n', '1', zip]),
      run([...sim.conn, 'image', 'upgrade', '-n', '1', zip]),
    ]);
    expect(withN).toMatchObject({
      code: 64,
      stdout: '',
      stderr: 'Error: -n does not apply to a dfu_application.zip: its manifest gives each image its number\n',
    });
    expect(upgradeWithN).toEqual(withN);
  });

  it('image upgrade of a dfu_application.zip uploads, tests, boots and confirms every image', async () => {
    const app2 = createImage(new Uint8Array(randomBytes(12_000)), { version: '2.2.0', padHeader: true });
    const net2 = createImage(new Uint8Array(randomBytes(7_000)), { version: '3.2.0', padHeader: true });
    const zip = write(
      'upgrade.zip',
      dfuZip([
        { index: 0, name: 'zephyr.signed.bin', bytes: app2 },
        { index: 1, name: 'net.signed.bin', bytes: net2 },
      ]),
    );
    const r = await run([...sim.conn, '--json', 'image', 'upgrade', zip]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { upgraded: boolean; steps: { step: string }[]; state: { images: ListedSlot[] } };
    expect(doc.upgraded).toBe(true);
    expect(doc.steps.map((s) => s.step)).toEqual(['upload', 'upload', 'test', 'test', 'reset', 'wait', 'confirm', 'confirm']);
    const primary = (n: number) => doc.state.images.find((i) => (i.image ?? 0) === n && i.slot === 0);
    expect(primary(0)).toMatchObject({ version: '2.2.0', hash: hex(parseImage(app2).hash!), confirmed: true, active: true });
    expect(primary(1)).toMatchObject({ version: '3.2.0', hash: hex(parseImage(net2).hash!), confirmed: true });
    // Both run now: a second upgrade has nothing to do.
    const again = await run([...sim.conn, 'image', 'upgrade', zip]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/is already running; nothing to do\n$/);
  });
});
