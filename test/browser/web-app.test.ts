/**
 * The web device manager (web/) in headless Chromium, every panel driven against the virtual device: over Web
 * Serial to mcumgr-sim on a real pseudo-terminal (behind a 1 Mbaud UART model), and over Web Bluetooth to a
 * SimulatedGattPeer. One browser for the file; screenshots of every panel go to docs/screenshots/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { VirtualDevice } from '../../src/device/device.js';
import { image } from '../../src/groups/index.js';
import { binaryToIhex, createImage, generateKey, parseImage, publicKeyPem, toHex } from '../../src/image/node.js';
import { SimulatedGattPeer } from '../../src/device/ble-sim.js';
import { UdpTransport } from '../../src/node/udp.js';
import { Simulator, tempDir } from '../cli/helpers.js';
import { dfuZip, makeZip } from '../helpers/zip.js';
import { bridgeWebBluetooth, bridgeWebSerial, type SerialBridge } from './bridge.js';
import { chromiumMissing, openBrowser, type ExamplePage } from './chromium.js';

const missing = chromiumMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE WEB APP TESTS ***\n${missing}\n`);
const describeBrowser = missing && !process.env.CI ? describe.skip : describe;

// The committed screenshots (docs/screenshots/, linked from the README) are rewritten by `npm run screenshots`;
// a plain test run writes its own to .tmp/screenshots/ and leaves the work tree clean.
const SCREENSHOTS = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? '../../docs/screenshots/' : '../../.tmp/screenshots/', import.meta.url));
const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const LAPTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

let browser: ExamplePage & { context: import('playwright-core').BrowserContext };
let errors: string[];

function watchErrors(page: Page): string[] {
  const list: string[] = [];
  page.on('pageerror', (err) => list.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') list.push(`console: ${msg.text()}`);
  });
  return list;
}

async function show(page: Page, panel: string): Promise<void> {
  await page.click(`#nav-${panel}`);
  await eventually(() => page.isVisible(`#panel-${panel}`)).toBe(true);
}

async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), ...options });
}

/** axe-core on the page as it is: the serious and critical violations, with where they are. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } })
      .axe;
    const r = await axe.run(document);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.targets.join(', ')}`);
}

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(tempDir('mcumgr-web-'), name);
  writeFileSync(path, bytes);
  return path;
}

/** expect.poll with room for a loaded machine (its default gives up after one second). */
const eventually = <T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) => expect.poll(read, { timeout: 15_000, ...options });

const text = (page: Page, selector: string) => page.textContent(selector).then((t) => t ?? '');

/** A virtual device behind a simulated GATT peer, and a page of the app whose navigator.bluetooth reaches it. */
async function bluetoothPage(peerOptions: ConstructorParameters<typeof SimulatedGattPeer>[0]) {
  const vdev = await VirtualDevice.create({ stateDir: tempDir('mcumgr-web-ble-') });
  const peer = new SimulatedGattPeer(peerOptions);
  vdev.server.attach(peer.deviceTransport());
  const page = await browser.context.newPage();
  await page.setViewportSize(LAPTOP);
  errors = watchErrors(page);
  await bridgeWebBluetooth(page, peer);
  await page.goto(`${browser.url}#connect`);
  return {
    vdev,
    peer,
    page,
    async close() {
      await page.close();
      await vdev.close();
    },
  };
}

beforeAll(async () => {
  if (missing) throw new Error(missing);
  browser = await openBrowser({ site: 'web' });
});
afterAll(async () => {
  await browser?.close();
});

describeBrowser('web device manager over Web Serial (mcumgr-sim on a pseudo-terminal)', () => {
  let sim: Simulator;
  let device: SmpClient;
  let serial: SerialBridge;
  let page: Page;

  const slots = async () => (await device.call(image.state, {})).images;
  const slotOf = async (imageNumber: number, slot: number) => (await slots()).find((s) => (s.image ?? 0) === imageNumber && s.slot === slot);

  beforeAll(async () => {
    sim = await Simulator.start({ serial: true, link: 'uart-1M', config: { images: 2 } });
    device = new SmpClient(await UdpTransport.connect(sim.address), { timeoutMs: 5000 });
    page = browser.page;
    await page.setViewportSize(LAPTOP);
    errors = watchErrors(page);
    serial = await bridgeWebSerial(page, sim.ptyPath!);
    await page.goto(`${browser.url}#connect`);
  });
  afterAll(async () => {
    await serial?.close();
    await device?.close();
    await sim?.stop();
  });

  it('connects through navigator.serial at the chosen baud rate and says so', async () => {
    await page.selectOption('#baud', '230400');
    await page.fill('#timeout', '3');
    await page.click('#connect');
    await eventually(() => text(page, '#link-message')).toBe('Connected to serial port (230400 baud, console framing).');
    expect(serial.baudRates).toEqual([230400]);
    await screenshot(page, 'connect');
    expect(errors).toEqual([]);
  });

  it('overview: OS and app, bootloader and mode, buffers, clock, uptime, groups, echo', async () => {
    await show(page, 'overview');
    await eventually(() => text(page, '#fact-os-info')).toMatch(/^Zephyr mcumgr-sim/);
    expect(await text(page, '#fact-bootloader')).toBe('MCUboot, swap using scratch');
    expect(await text(page, '#fact-buffers')).toBe('4 × 1024 bytes');
    expect(await text(page, '#fact-uptime')).toMatch(/^Uptime: \d+ ms$/);
    expect(await text(page, '#fact-groups')).toMatch(/img mgmt \(1, \d+ commands\)/);
    await page.fill('#echo-text', 'round trip');
    await page.click('#echo-send');
    await eventually(() => text(page, '#echo-message')).toMatch(/^Echoed "round trip" in \d+\.\d ms\.$/);
    await page.click('#datetime-set');
    await eventually(() => text(page, '#datetime-message')).toMatch(/^Clock set to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d; the device now reads /);
    await screenshot(page, 'overview');
    expect(errors).toEqual([]);
  });

  it('images: refuses a file that is not an image, and one too big for the slot, before sending anything', async () => {
    await show(page, 'images');
    await eventually(() => page.locator('#slots li').count()).toBeGreaterThan(0);
    await page.setInputFiles('#firmware-file', file('notes.bin', 'just some text, not firmware\n'.repeat(8)));
    await eventually(() => text(page, '#firmware-message')).toMatch(/^Error: notes\.bin is not an MCUboot image: .*magic/);
    expect(await page.isVisible('#upload')).toBe(false);

    const big = createImage(new Uint8Array(300_000).fill(7), { version: '9.0.0', padHeader: true });
    await page.setInputFiles('#firmware-file', file('big.bin', big));
    await eventually(() => text(page, '#fw-image-0 .fw-version')).toBe('9.0.0');
    const framesBefore = await device.call(image.state, {});
    await page.click('#upload');
    await eventually(() => text(page, '#images-message')).toBe(`Error: big.bin is ${big.length} bytes: slot 1 holds at most 259024. Build a smaller image.`);
    expect(await device.call(image.state, {})).toEqual(framesBefore);
    expect(errors).toEqual([]);
  });

  it('images: shows header, TLVs and hash; checks the signature with the key given, and names a wrong key', async () => {
    const key = generateKey('ecdsa-p256');
    const other = generateKey('ecdsa-p256');
    const signed = createImage(new Uint8Array(4000).fill(3), { version: '1.4.2+7', padHeader: true, key });
    await page.setInputFiles('#firmware-file', file('signed.bin', signed));
    await eventually(() => text(page, '#fw-image-0 .fw-version')).toBe('1.4.2.7');
    expect(await text(page, '#fw-image-0 .fw-hash')).toBe(toHex(parseImage(signed).hash!));
    expect(await page.locator('.tlvs tbody tr td:nth-child(2)').allTextContents()).toEqual(expect.arrayContaining(['SHA256', 'KEYHASH', 'ECDSA_SIG']));

    await page.fill('#public-key', publicKeyPem(other));
    await page.click('#verify');
    await eventually(() => text(page, '#verify-message')).toMatch(/^Error: Image: no signature found for the given ecdsa-p256 key/);
    await page.fill('#public-key', publicKeyPem(key));
    await page.click('#verify');
    await eventually(() => text(page, '#verify-message')).toBe('Signature verified: ECDSA_SIG with the given key; hash matches.');
    await page.fill('#public-key', 'not a key');
    await page.click('#verify');
    await eventually(() => text(page, '#verify-message')).toMatch(/^Error: Image: .*key/);
    expect(errors).toEqual([]);
  });

  it("images: reads an Intel HEX file and a dfu_application.zip (deflated, read with the browser's DecompressionStream)", async () => {
    const img = createImage(
      new Uint8Array(6000).map((_, i) => i & 0xff),
      { version: '1.9.0', padHeader: true },
    );
    await page.setInputFiles('#firmware-file', file('zephyr.signed.hex', binaryToIhex(0x10000, img)));
    await eventually(() => text(page, '#fw-file')).toBe('zephyr.signed.hex');
    expect(await text(page, '#fw-image-0 .fw-from')).toBe('Intel HEX at 0x10000');
    expect(await text(page, '#fw-image-0 .fw-hash')).toBe(toHex(parseImage(img).hash!));
    const manifest = { 'format-version': 1, files: [{ type: 'application', image_index: '0', file: 'app.signed.bin' }] };
    const zip = makeZip([
      { name: 'manifest.json', data: new TextEncoder().encode(JSON.stringify(manifest)), deflate: true },
      { name: 'app.signed.bin', data: img, deflate: true },
    ]);
    await page.setInputFiles('#firmware-file', file('dfu_application.zip', zip));
    await eventually(() => text(page, '#fw-file')).toBe('dfu_application.zip');
    expect(await text(page, '#fw-image-0 .fw-from')).toBe('app.signed.bin');
    expect(await text(page, '#fw-image-0 .fw-version')).toBe('1.9.0');
    const damaged = img.slice();
    damaged[100]! ^= 0xff;
    await page.setInputFiles('#firmware-file', file('damaged.bin', damaged));
    await eventually(() => text(page, '#firmware-message')).toMatch(/^Error: damaged\.bin is damaged: image has an invalid hash/);
    expect(errors).toEqual([]);
  });

  it('images: the one-click upgrade uploads, tests, resets, waits and confirms, each step shown', async () => {
    const img = createImage(
      new Uint8Array(30_000).map((_, i) => (i * 31) & 0xff),
      { version: '2.0.0', padHeader: true },
    );
    await page.setInputFiles('#firmware-file', file('app-2.0.0.bin', img));
    await eventually(() => text(page, '#fw-image-0 .fw-version')).toBe('2.0.0');
    await page.click('#upgrade');
    await eventually(() => text(page, '#images-message'), { timeout: 30_000 }).toBe('Upgrade complete: 2.0.0 is running and confirmed.');
    expect(await page.locator('#upgrade-steps li').evaluateAll((items) => items.map((li) => li.getAttribute('data-state')))).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(await slotOf(0, 0)).toMatchObject({ version: '2.0.0', confirmed: true, active: true, hash: parseImage(img).hash });
    expect(await page.getAttribute('#upload-chart', 'data-points')).not.toBe('0');
    await screenshot(page, 'images', { fullPage: true });
    expect(errors).toEqual([]);
  });

  it('images: refuses a downgrade when asked, without sending it', async () => {
    const old = createImage(new Uint8Array(5000).fill(1), { version: '1.5.0', padHeader: true });
    await page.setInputFiles('#firmware-file', file('app-1.5.0.bin', old));
    await eventually(() => text(page, '#fw-image-0 .fw-version')).toBe('1.5.0');
    await page.check('#no-downgrade');
    await page.click('#upload');
    await eventually(() => text(page, '#images-message')).toBe(
      'Error: Refused: app-1.5.0.bin is version 1.5.0, not newer than the running 2.0.0. Turn off "Refuse downgrades" to send it anyway.',
    );
    expect((await slotOf(0, 1))?.version).not.toBe('1.5.0');
    await page.uncheck('#no-downgrade');
  });

  it('images: a two-image dfu_application.zip shows each image, and the upgrade sends each to its image number, resets once, confirms both', async () => {
    const key = generateKey('ecdsa-p256');
    const app = createImage(
      new Uint8Array(14_000).map((_, i) => (i * 13) & 0xff),
      { version: '2.2.0', padHeader: true, key },
    );
    const net = createImage(
      new Uint8Array(9_000).map((_, i) => (i * 17) & 0xff),
      { version: '3.1.0', padHeader: true, key },
    );
    // Listed out of order: the manifest's image_index decides where each goes.
    const zip = dfuZip([
      { index: 1, name: 'ipc_radio.signed.bin', bytes: net },
      { index: 0, name: 'zephyr.signed.bin', bytes: app },
    ]);
    await page.setInputFiles('#firmware-file', file('dfu_application.zip', zip));
    await eventually(() => text(page, '#fw-count')).toBe('2');
    expect(await text(page, '#firmware-message')).toBe('dfu_application.zip: 2 MCUboot images: image 0 2.2.0 and image 1 3.1.0.');
    const shown = (n: number, what: string) => text(page, `#fw-image-${n} .fw-${what}`);
    expect([await shown(0, 'from'), await shown(0, 'target'), await shown(0, 'version'), await shown(0, 'hash')]).toEqual([
      'zephyr.signed.bin',
      'image 0, slot 1',
      '2.2.0',
      toHex(parseImage(app).hash!),
    ]);
    expect([await shown(1, 'from'), await shown(1, 'target'), await shown(1, 'version'), await shown(1, 'hash')]).toEqual([
      'ipc_radio.signed.bin',
      'image 1, slot 1',
      '3.1.0',
      toHex(parseImage(net).hash!),
    ]);
    expect(await page.locator('#fw-image-1 .tlvs tbody td:nth-child(2)').allTextContents()).toEqual(expect.arrayContaining(['SHA256', 'ECDSA_SIG']));
    await page.fill('#public-key', publicKeyPem(key));
    await page.click('#verify');
    await eventually(() => text(page, '#verify-message')).toBe('Signatures verified with the given key: image 0 ECDSA_SIG, image 1 ECDSA_SIG; hashes match.');

    const resets: string[] = [];
    const countResets = (chunk: string) => resets.push(...(chunk.match(/^reset: .*$/gm) ?? []));
    sim.proc.stderr!.on('data', countResets);
    try {
      const reset = sim.nextReset();
      await page.click('#upgrade');
      await eventually(() => text(page, '#images-message'), { timeout: 60_000 }).toBe(
        'Upgrade complete: image 0 2.2.0 and image 1 3.1.0 are running and confirmed.',
      );
      await reset;
    } finally {
      sim.proc.stderr!.off('data', countResets);
    }
    expect(resets).toHaveLength(1);
    expect(await page.locator('#upgrade-steps li').evaluateAll((items) => items.map((li) => li.getAttribute('data-state')))).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(await text(page, '#upgrade-steps li:first-child .step-detail')).toBe(
      ` — image 0: ${(app.length / 1024).toFixed(1)} KiB, image 1: ${(net.length / 1024).toFixed(1)} KiB sent`,
    );
    expect(await slotOf(0, 0)).toMatchObject({ version: '2.2.0', hash: parseImage(app).hash, confirmed: true, active: true });
    expect(await slotOf(1, 0)).toMatchObject({ version: '3.1.0', hash: parseImage(net).hash, confirmed: true });
    await eventually(() => page.locator('#slot-1-0 .version').textContent()).toBe('3.1.0');

    // Both run now: a second click has nothing to send.
    await page.click('#upgrade');
    await eventually(() => text(page, '#images-message')).toBe('Nothing to do: image 0 2.2.0 and image 1 3.1.0 already running.');
    expect(errors).toEqual([]);
  });

  it('images: a device lost during an upload is waited for, and the upload resumes where the device stopped', async () => {
    await show(page, 'images');
    const img = createImage(
      new Uint8Array(120_000).map((_, i) => (i * 7) & 0xff),
      { version: '3.0.0', padHeader: true },
    );
    await page.setInputFiles('#firmware-file', file('app-3.0.0.bin', img));
    await eventually(() => text(page, '#fw-image-0 .fw-version')).toBe('3.0.0');
    await page.click('#upload');
    const progress = () => page.$eval('#upload-bar', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]).catch(() => [0, 0]);
    await eventually(async () => {
      const [value, max] = await progress();
      return max === img.length && value > img.length / 10;
    }).toBe(true);
    expect(await text(page, '#upload-text')).toMatch(/^[\d.]+ KiB of 117\.3 KiB \(\d+ %\), [\d.]+ KiB\/s, about (\d+ s|\d+ min \d+ s|—) left$/);
    await serial.unplug();
    await eventually(() => text(page, '#link-message')).toMatch(
      /^The link was lost \(Serial port disconnected .*\)\. Waiting for it to come back: attempt \d+/,
    );
    serial.plugIn();
    await eventually(() => text(page, '#images-message'), { timeout: 30_000 }).toBe(`Upload complete: ${img.length} bytes of app-3.0.0.bin.`);
    expect(await text(page, '#upload-text')).toMatch(/, resumed at \d/);
    expect(await slotOf(0, 1)).toMatchObject({ version: '3.0.0', hash: parseImage(img).hash });
    expect(await text(page, '#link-message')).toBe('Connected to serial port (230400 baud, console framing).');
    errors.splice(0); // the lost port logs the browser's own stream errors
  });

  it('images: erases the secondary slot, and resets the device, waiting for it to answer again; the overview reads the restarted device', async () => {
    await show(page, 'overview');
    const shown = await text(page, '#fact-uptime');
    await page.click('#overview-refresh');
    const readAgain = async () => {
      const now = await text(page, '#fact-uptime');
      return now !== shown && /^Uptime: \d+ ms$/.test(now);
    };
    await eventually(readAgain).toBe(true);
    const uptimeBefore = await text(page, '#fact-uptime');
    await show(page, 'images');
    await page.click('#images-refresh');
    const secondary = page.locator('#slot-0-1');
    await eventually(() => secondary.locator('.version').textContent()).toBe('3.0.0');
    await secondary.getByRole('button', { name: 'Erase' }).click();
    await eventually(() => text(page, '#images-message')).toBe('Slot 1 erased.');
    expect(await slotOf(0, 1)).toBeUndefined();
    const reset = sim.nextReset();
    await page.click('#reset');
    await eventually(() => text(page, '#images-message'), { timeout: 30_000 }).toBe('The device restarted and answers again.');
    expect(await reset).toMatch(/^reset: /);
    // The UART link stayed up through the reset: the overview reads the device again by itself.
    expect(await text(page, '#link-message')).toBe('Connected to serial port (230400 baud, console framing).');
    await show(page, 'overview');
    await eventually(() => text(page, '#fact-uptime')).not.toBe(uptimeBefore);
    expect(await text(page, '#fact-uptime')).toMatch(/^Uptime: \d+ ms$/);
  });

  it('log: every frame sent and received, decoded and in hex', async () => {
    await show(page, 'overview');
    await page.fill('#echo-text', 'for the log');
    await page.click('#echo-send');
    await eventually(() => text(page, '#echo-message')).toMatch(/^Echoed "for the log"/);
    await show(page, 'log');
    const rows = page.locator('#frames tbody tr');
    await eventually(() => rows.count()).toBeGreaterThan(10);
    // Other panels may still be reading (the overview refreshes after a reconnect): find the echo's frames.
    const rx = rows.filter({ hasText: '{"r":"for the log"}' });
    const tx = rows.filter({ hasText: '{"d":"for the log"}' });
    expect(await rx.locator('.frame-summary').textContent()).toMatch(/^os\.echo write response \(group 0, id 0, v2\)$/);
    expect(await rx.locator('.frame-hex').textContent()).toMatch(/^[0-9a-f]+$/);
    expect(await tx.locator('.frame-summary').textContent()).toMatch(/^os\.echo write \(group 0, id 0, v2\)$/);
    expect(Number(await tx.locator('td').first().textContent())).toBeLessThan(Number(await rx.locator('td').first().textContent()));
    await screenshot(page, 'log');
  });

  it('shell: a terminal over shell exec prints `kernel version`, with history', async () => {
    await show(page, 'shell');
    await page.click('#terminal');
    await page.keyboard.type('kernel version');
    await page.keyboard.press('Enter');
    await eventually(() => text(page, '#terminal .xterm-rows')).toContain('Zephyr version 3.4.99');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await eventually(async () => (await text(page, '#terminal .xterm-rows')).split('Zephyr version 3.4.99').length - 1).toBe(2);
    await page.keyboard.type('kernel nonsense');
    await page.keyboard.press('Enter');
    await eventually(() => text(page, '#terminal .xterm-rows')).toContain('(exit status 1)');
    await screenshot(page, 'shell');
    expect(errors).toEqual([]);
  });

  it('shell: copies all output or the selection to the clipboard; pasted lines run as commands, one after the other', async () => {
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(browser.url).origin });
    const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
    await show(page, 'shell');
    await page.click('#shell-copy');
    await eventually(() => text(page, '#shell-message')).toMatch(/^Copied \d+ characters to the clipboard\.$/);
    const all = await clipboard();
    expect(all).toMatch(/^Commands run on the device through SMP shell exec/);
    expect(all).toContain('Zephyr version 3.4.99');
    expect(all).toContain('(exit status 1)');

    // Drag over the first row only: Ctrl+Shift+C copies just that.
    const row = (await page.locator('#terminal .xterm-rows > div').first().boundingBox())!;
    await page.mouse.move(row.x + 1, row.y + row.height / 2);
    await page.mouse.down();
    await page.mouse.move(row.x + row.width - 1, row.y + row.height / 2, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.press('Control+Shift+C');
    await eventually(clipboard).not.toBe(all);
    const selected = await clipboard();
    expect(all.startsWith(selected.trimEnd())).toBe(true);
    expect(selected).toMatch(/^Commands run on the device/);
    expect(selected).not.toContain('Zephyr version');

    await page.click('#shell-clear');
    await page.evaluate(() => navigator.clipboard.writeText('kernel uptime\nkernel version\n'));
    await page.click('#terminal');
    await page.keyboard.press('Control+Shift+V');
    const shown = () => text(page, '#terminal .xterm-rows');
    await eventually(shown).toContain('Zephyr version 3.4.99');
    expect(await shown()).toMatch(/kernel uptime.*Uptime: \d+ ms.*kernel version.*Zephyr version 3\.4\.99/);
    expect(errors).toEqual([]);
  });

  it('files: upload and download with size and hash check; listing through fs ls', async () => {
    await show(page, 'files');
    const content = new Uint8Array(3000).map((_, i) => (i * 5) & 0xff);
    await page.fill('#fs-remote', '/lfs/data.bin');
    await page.setInputFiles('#fs-local', file('data.bin', content));
    await page.click('#fs-upload');
    await eventually(() => text(page, '#fs-message')).toBe('Uploaded data.bin to /lfs/data.bin: 3000 bytes; size and hash checked on the device.');
    const download = page.waitForEvent('download');
    await page.click('#fs-download');
    await eventually(() => text(page, '#fs-message')).toBe('Downloaded /lfs/data.bin: 3000 bytes; size and hash checked against the device.');
    expect((await download).suggestedFilename()).toBe('data.bin');
    await page.click('#fs-list');
    await eventually(() => page.locator('#fs-listing li').allTextContents()).toContain('data.bin');
    await page.fill('#fs-remote', '/lfs/missing.txt');
    await page.click('#fs-download');
    await eventually(() => text(page, '#fs-message')).toMatch(/^Error: The device answered /);
    await screenshot(page, 'files');
  });

  it('statistics: every group charted live; pause holds the charts; CSV export', async () => {
    await show(page, 'stats');
    const charts = page.locator('#panel-stats .chart');
    await eventually(() => charts.count()).toBeGreaterThan(0);
    await eventually(() => charts.first().getAttribute('data-points'), { timeout: 15_000 }).toMatch(/^([3-9]|\d{2,})$/);
    // The chart's canvas holds drawn pixels.
    const inked = await charts
      .first()
      .locator('canvas')
      .evaluate((c: HTMLCanvasElement) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
    expect(inked).toBeGreaterThan(100);
    await page.click('#stats-pause');
    await eventually(() => text(page, '#stats-pause')).toBe('Resume');
    const held = await charts.first().getAttribute('data-points');
    await device.call(image.state, {}); // a round trip: a poll would have answered by now
    expect(await charts.first().getAttribute('data-points')).toBe(held);
    const download = page.waitForEvent('download');
    await page.click('#stats-csv');
    const csv = await (await download).createReadStream();
    let body = '';
    for await (const chunk of csv) body += String(chunk);
    expect(body.split('\n')[0]).toBe('time_s,group,counter,value');
    expect(body.split('\n').length).toBeGreaterThan(3);
    await screenshot(page, 'statistics');
    await page.click('#stats-pause');
  });

  it('threads: taskstat as a table with stack-use bars', async () => {
    await show(page, 'threads');
    const rows = page.locator('#threads tbody tr');
    await eventually(() => rows.count()).toBeGreaterThan(1);
    expect(await page.locator('#threads meter').count()).toBe(await rows.count());
    expect(await rows.first().locator('td').nth(2).textContent()).toMatch(/^ ?\d+ \/ \d+ \(\d+ %\)$/);
    await screenshot(page, 'threads');
  });

  it('settings: write, read back, delete', async () => {
    await show(page, 'settings');
    await page.fill('#setting-name', 'app/greeting');
    await page.fill('#setting-value', 'hello device');
    await page.click('#setting-write');
    await eventually(() => text(page, '#settings-message')).toBe('app/greeting written (12 byte(s)) and saved.');
    await page.fill('#setting-value', '');
    await page.click('#setting-read');
    await eventually(() => text(page, '#setting-text')).toBe('hello device');
    await screenshot(page, 'settings');
    await page.click('#setting-delete');
    await eventually(() => text(page, '#settings-message')).toBe('app/greeting deleted.');
    await page.click('#setting-read');
    await eventually(() => text(page, '#settings-message')).toMatch(/^Error: The device answered .*\(\d+\): /);
  });

  it('every panel passes axe-core without a serious violation, on a laptop and a phone', async () => {
    for (const viewport of [LAPTOP, PHONE]) {
      await page.setViewportSize(viewport);
      for (const panel of ['connect', 'overview', 'images', 'log', 'shell', 'files', 'stats', 'threads', 'settings']) {
        await show(page, panel);
        expect({ panel, viewport, violations: await seriousViolations(page) }).toEqual({ panel, viewport, violations: [] });
      }
    }
    await show(page, 'overview');
    await screenshot(page, 'phone-overview');
    await show(page, 'images');
    await screenshot(page, 'phone-images', { fullPage: true });
    await page.setViewportSize(LAPTOP);
  });

  it('a device that stops answering: a clear timeout on the page, and the page goes on', async () => {
    await show(page, 'overview');
    process.kill(sim.proc.pid!, 'SIGSTOP');
    try {
      await page.click('#echo-send');
      await eventually(() => text(page, '#echo-message'), { timeout: 15_000 }).toMatch(
        /^Error: No answer: no response from the device within 3 s .*Is the device connected and running SMP\?/,
      );
      expect(await page.isEnabled('#echo-send')).toBe(true);
    } finally {
      process.kill(sim.proc.pid!, 'SIGCONT');
    }
    await page.click('#echo-send');
    await eventually(() => text(page, '#echo-message'), { timeout: 15_000 }).toMatch(/^Echoed /);
  });

  it('a USB device that comes back as another device: the page says so and offers the chooser again', async () => {
    await page.click('#nav-connect');
    await page.click('#disconnect');
    await eventually(() => text(page, '#link-message')).toBe('Disconnected.');
    await page.fill('#reconnect-seconds', '2');
    await page.click('#reconnect-last');
    await eventually(() => text(page, '#link-message')).toMatch(/^Connected to serial port/);
    await serial.unplug();
    serial.plugIn({ newIdentity: true });
    await eventually(() => text(page, '#link-message'), { timeout: 20_000 }).toMatch(/the browser then needs you to pick the port again\.$/);
    await screenshot(page, 'reconnect-needs-gesture');
    await page.click('#pick-again');
    await eventually(() => text(page, '#link-message')).toMatch(/^Connected to serial port/);
    errors.splice(0);
  });
});

describeBrowser('web device manager over Web Bluetooth (SimulatedGattPeer on the virtual device)', () => {
  let ble: Awaited<ReturnType<typeof bluetoothPage>>;
  let page: Page;
  let peer: SimulatedGattPeer;

  beforeAll(async () => {
    ble = await bluetoothPage({ attMtu: 247 });
    ({ page, peer } = ble);
  });
  afterAll(async () => {
    await ble?.close();
  });

  it('asks for a device with the SMP service and a name filter, at ATT MTU 247, and reads the overview', async () => {
    await page.check('input[name=kind][value=bluetooth]');
    await page.fill('#name-prefix', 'smp_');
    expect(await page.inputValue('#att-mtu')).toBe('247');
    await page.click('#connect');
    await eventually(() => text(page, '#link-message')).toBe('Connected to smp_svr (simulated) (ATT MTU 247).');
    expect(await page.evaluate(() => (window as { __requestDeviceOptions?: unknown }).__requestDeviceOptions)).toEqual({
      filters: [{ services: ['8d53dc1d-1db7-4cd3-868b-8a527460aa84'], namePrefix: 'smp_' }],
    });
    await show(page, 'overview');
    await eventually(() => text(page, '#fact-buffers')).toBe('4 × 1024 bytes');
    expect(peer.counters.notifications).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});

describeBrowser('web device manager over a Bluetooth link whose ATT MTU is smaller than asked', () => {
  let ble: Awaited<ReturnType<typeof bluetoothPage>>;
  let page: Page;
  let peer: SimulatedGattPeer;

  beforeAll(async () => {
    ble = await bluetoothPage({ attMtu: 23, reassembly: true });
    ({ page, peer } = ble);
  });
  afterAll(async () => {
    await ble?.close();
  });

  it('a refused write lowers the ATT MTU to 23 and says so; the next request goes through in 20-byte writes', async () => {
    await page.check('input[name=kind][value=bluetooth]');
    await page.fill('#name-prefix', '');
    await page.fill('#att-mtu', '247');
    await page.check('text=The device reassembles long requests');
    await page.click('#connect');
    await eventually(() => text(page, '#link-message')).toBe('Connected to smp_svr (simulated) (ATT MTU 247).');
    // The overview's first requests, or the echo, meet the refused write.
    await show(page, 'overview');
    await page.fill('#echo-text', 'a text longer than one twenty-byte write');
    await page.click('#echo-send');
    await eventually(() => text(page, '#link-notice')).toMatch(
      /^A write failed \(BLE write failed: ATT error 0x0d: write of \d+ bytes exceeds ATT_MTU − 3 = 20\): the ATT MTU of 247 is too large/,
    );
    const rejected = peer.counters.rejectedWrites;
    expect(rejected).toBeGreaterThan(0);
    await eventually(() => page.isEnabled('#echo-send')).toBe(true);
    await page.fill('#echo-text', 'sent again in writes of twenty bytes');
    await page.click('#echo-send');
    await eventually(() => text(page, '#echo-message')).toMatch(/^Echoed "sent again in writes of twenty bytes" in /);
    await show(page, 'connect');
    expect(await page.inputValue('#att-mtu')).toBe('23');
    expect(peer.counters.rejectedWrites).toBe(rejected);
    errors.splice(0);
  });
});

describeBrowser('web device manager: what a first visit loads', () => {
  it('the first load leaves out xterm.js and uPlot; the Shell panel brings xterm.js when opened', async () => {
    const page = await browser.context.newPage();
    const scripts: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('.js') && !r.url().endsWith('/sw.js')) scripts.push(new URL(r.url()).pathname.split('/').pop()!);
    });
    await page.goto(`${browser.url}#connect`);
    await eventually(() => text(page, '#panel-title')).toBe('Connect');
    const built = (name: string) => readFileSync(join(WEB_DIST, 'assets', name), 'utf8');
    const first = [...scripts];
    expect(first.length).toBeGreaterThan(0);
    for (const name of first) {
      expect(built(name), name).not.toContain('xterm-helper-textarea');
      expect(built(name), name).not.toContain('u-over');
    }
    expect(first.reduce((sum, name) => sum + built(name).length, 0)).toBeLessThan(250_000);
    await show(page, 'shell');
    await eventually(() => page.locator('#terminal .xterm').count()).toBe(1);
    expect(scripts.slice(first.length).some((name) => built(name).includes('xterm-helper-textarea'))).toBe(true);
    await page.close();
  });
});

describeBrowser('web device manager in a browser without Web Serial or Web Bluetooth', () => {
  it('says which browsers have them, and offers no connect button that cannot work', async () => {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      delete (Navigator.prototype as { serial?: unknown }).serial;
      delete (Navigator.prototype as { bluetooth?: unknown }).bluetooth;
    });
    await page.goto(`${browser.url}#connect`);
    await page.check('input[name=kind][value=serial]');
    await eventually(() => text(page, '#no-api')).toMatch(/^This browser has no Web Serial\. It is in Chrome, Edge and Opera on desktops/);
    expect(await page.isDisabled('#connect')).toBe(true);
    await page.check('input[name=kind][value=bluetooth]');
    await eventually(() => text(page, '#no-api')).toMatch(/^This browser has no Web Bluetooth\. It is in Chrome and Edge on desktops and in Chrome on Android/);
    expect(await page.isDisabled('#connect')).toBe(true);
    await page.close();
  });

  it('opens offline once loaded (service worker)', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${browser.url}#overview`);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await browser.context.setOffline(true);
    try {
      await page.reload();
      await eventually(() => text(page, '#panel-title')).toBe('Overview');
      // The panels loaded on demand come from the cache too.
      await show(page, 'shell');
      await eventually(() => page.locator('#terminal .xterm').count()).toBe(1);
    } finally {
      await browser.context.setOffline(false);
      await page.close();
    }
  });
});
