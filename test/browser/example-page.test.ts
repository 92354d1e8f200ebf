/**
 * The example page in headless Chromium: over Web Serial to mcumgr-sim on a real pseudo-terminal (list, upload,
 * test, reset, confirm) and over Web Bluetooth to a SimulatedGattPeer on the virtual device.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { VirtualDevice } from '../../src/device/device.js';
import { image } from '../../src/groups/index.js';
import { parseImage, toHex } from '../../src/image/image.js';
import { createImage } from '../../src/image/sign.js';
import { SMP_SERVICE_UUID } from '../../src/transport/ble-gatt.js';
import { SimulatedGattPeer } from '../../src/device/ble-sim.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { UdpTransport } from '../../src/node/udp.js';
import { Simulator, tempDir } from '../cli/helpers.js';
import { bridgeWebBluetooth, bridgeWebSerial } from './bridge.js';
import { chromiumMissing, openBrowser, type ExamplePage } from './chromium.js';

const missing = chromiumMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE BROWSER TESTS ***\n${missing}\n`);
const describeBrowser = missing && !process.env.CI ? describe.skip : describe;

/** Collects what the page throws or logs as an error, to show it when an assertion fails. */
function watchErrors(b: ExamplePage): string[] {
  const errors: string[] = [];
  b.page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  b.page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

async function slots(client: SmpClient) {
  return (await client.call(image.state, {})).images;
}

describeBrowser('example page over Web Serial (mcumgr-sim on a pseudo-terminal)', () => {
  let sim: Simulator;
  let browser: ExamplePage;
  let device: SmpClient;
  let serial: Awaited<ReturnType<typeof bridgeWebSerial>>;
  let errors: string[];

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    sim = await Simulator.start({ serial: true });
    device = new SmpClient(await UdpTransport.connect(sim.address), { timeoutMs: 5000 });
    browser = await openBrowser();
    errors = watchErrors(browser);
    serial = await bridgeWebSerial(browser.page, sim.ptyPath!);
    await browser.page.goto(browser.url);
  });
  afterAll(async () => {
    await serial?.close();
    await browser?.close();
    await device?.close();
    await sim?.stop();
  });

  it('connects through navigator.serial and lists the running image', async () => {
    const { page } = browser;
    await page.fill('#baud', '230400');
    await page.click('#connect');
    await expect.poll(() => page.textContent('#status')).toBe('Connected.');
    expect(serial.baudRates).toEqual([230400]);

    const running = (await slots(device)).find((s) => s.slot === 0)!;
    await page.click('#list');
    const row = page.locator('#images tbody tr').first();
    await expect.poll(() => row.locator('td').allTextContents()).toEqual(['0', '0', running.version, toHex(running.hash!), 'bootable active confirmed', '']);
    expect(errors).toEqual([]);
  });

  it('refuses a file that is not an MCUboot image with a clear error', async () => {
    const { page } = browser;
    const file = join(tempDir('mcumgr-browser-'), 'notes.bin');
    writeFileSync(file, 'not firmware at all, just text\n'.repeat(10));
    await page.setInputFiles('#file', file);
    await expect.poll(() => page.textContent('#status')).toMatch(/^Error: notes\.bin is not an MCUboot image: .*magic/);
    expect(await page.textContent('#file-info')).toBe('');
    expect(await page.isDisabled('#upload')).toBe(true);
    errors.splice(0);
  });

  it('uploads an MCUboot image chosen with the file input; the device holds its hash in slot 1', async () => {
    const { page } = browser;
    const img = createImage(
      new Uint8Array(24_000).map((_, i) => (i * 13) & 0xff),
      { version: '1.7.0+3', padHeader: true },
    );
    const hash = toHex(parseImage(img).hash!);
    const file = join(tempDir('mcumgr-browser-'), 'app.signed.bin');
    writeFileSync(file, img);

    await page.setInputFiles('#file', file);
    await expect.poll(() => page.textContent('#file-info')).toContain(`version 1.7.0.3, ${img.length} bytes, hash ${hash}`);
    await page.click('#upload');
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe(`Upload complete: ${img.length} bytes.`);
    expect(await page.$eval('#progress', (p: HTMLProgressElement) => [p.value, p.max])).toEqual([img.length, img.length]);

    expect((await slots(device)).find((s) => s.slot === 1)).toMatchObject({ version: '1.7.0.3', hash: parseImage(img).hash });
    const slot1 = page.locator('#images tbody tr').nth(1);
    expect(await slot1.locator('td').nth(3).textContent()).toBe(hash);
    expect(errors).toEqual([]);
  });

  it('tests the new image, resets into it and confirms it from the page', async () => {
    const { page } = browser;
    const uploaded = (await slots(device)).find((s) => s.slot === 1)!;
    await page.locator('#images tbody tr').nth(1).getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => page.textContent('#status')).toBe('Image marked for test; reset to boot it.');
    expect((await slots(device)).find((s) => s.slot === 1)?.pending).toBe(true);

    await page.click('#reset');
    await expect.poll(() => page.textContent('#status')).toBe('Reset requested.');
    await expect.poll(async () => (await slots(device)).find((s) => s.slot === 0)?.version, { timeout: 10_000 }).toBe(uploaded.version);

    await page.click('#list');
    await page.locator('#images tbody tr').first().getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.textContent('#status')).toBe('Image confirmed.');
    expect((await slots(device)).find((s) => s.slot === 0)).toMatchObject({ version: uploaded.version, confirmed: true });
    expect(errors).toEqual([]);
  });
  it('shows a lost serial device (the simulator process ends) as a disconnect', async () => {
    const { page } = browser;
    await sim.stop();
    await expect.poll(() => page.textContent('#status')).toMatch(/^Disconnected: Serial port disconnected \(/);
    expect(await page.isDisabled('#list')).toBe(true);
    expect(await page.isEnabled('#connect')).toBe(true);
    expect(errors).toEqual([]);
  });
});

describeBrowser('example page over Web Bluetooth (SimulatedGattPeer on the virtual device)', () => {
  let vdev: VirtualDevice;
  let peer: SimulatedGattPeer;
  let browser: ExamplePage;
  let errors: string[];

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    vdev = await VirtualDevice.create({ stateDir: tempDir('mcumgr-browser-ble-') });
    peer = new SimulatedGattPeer({ attMtu: 247 });
    vdev.server.attach(peer.deviceTransport());
    browser = await openBrowser();
    errors = watchErrors(browser);
    await bridgeWebBluetooth(browser.page, peer);
    await browser.page.goto(browser.url);
  });
  afterAll(async () => {
    await browser?.close();
    await vdev?.close();
  });

  it('asks for a device with the SMP service, lists, uploads, and shows a dropped link', async () => {
    const { page } = browser;
    await page.check('input[name=conntype][value=bluetooth]');
    await page.click('#connect');
    await expect.poll(() => page.textContent('#status')).toBe('Connected.');
    expect(await page.evaluate(() => (window as { __requestDeviceOptions?: unknown }).__requestDeviceOptions)).toEqual({
      filters: [{ services: [SMP_SERVICE_UUID] }],
    });

    const [local, remote] = createMemoryPair();
    vdev.server.attach(remote);
    const client = new SmpClient(local);
    const running = (await slots(client)).find((s) => s.slot === 0)!;
    await page.click('#list');
    await expect.poll(() => page.locator('#images tbody tr td.hash').first().textContent()).toBe(toHex(running.hash!));
    expect(peer.counters.notifications).toBeGreaterThan(0);

    const img = createImage(new Uint8Array(8000).fill(0x5a), { version: '2.4.0', padHeader: true });
    const file = join(tempDir('mcumgr-browser-'), 'ble.signed.bin');
    writeFileSync(file, img);
    await page.setInputFiles('#file', file);
    await expect.poll(() => page.isEnabled('#upload')).toBe(true);
    await page.click('#upload');
    await expect.poll(() => page.textContent('#status'), { timeout: 20_000 }).toBe(`Upload complete: ${img.length} bytes.`);
    expect((await slots(client)).find((s) => s.slot === 1)).toMatchObject({ version: '2.4.0', hash: parseImage(img).hash });
    expect(peer.counters.rejectedWrites).toBe(0);

    peer.dropLink(new Error('supervision timeout'));
    await expect.poll(() => page.textContent('#status')).toMatch(/^Disconnected: BLE peer disconnected/);
    expect(await page.isDisabled('#list')).toBe(true);
    expect(errors).toEqual([]);
  });
});
