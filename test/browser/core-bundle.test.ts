/**
 * The browser-safe core as a page gets it: bundled by scripts/bundle-size.mjs (the bundle `npm run size`
 * measures), within its gzipped budget, and verifying MCUboot images inside headless Chromium with WebCrypto.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript build script
import { BUDGET_GZIP_BYTES, bundleCore } from '../../scripts/bundle-size.mjs';
import { parseImage } from '../../src/image/index.js';
import { createImage, generateKey, publicKeyPem, type KeyType } from '../../src/image/node.js';
import { chromiumMissing, openBrowser, type ExamplePage } from './chromium.js';

interface CoreSize {
  code: Uint8Array;
  minified: number;
  gzipped: number;
}

const bundle = (globalName?: string): Promise<CoreSize> => bundleCore({ globalName }) as Promise<CoreSize>;

describe('core bundle size', () => {
  it(`bundles for the browser platform within ${BUDGET_GZIP_BYTES} gzipped bytes`, async () => {
    const size = await bundle();
    expect(size.minified).toBeGreaterThan(size.gzipped);
    expect(size.gzipped).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });
});

const missing = chromiumMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE BROWSER TESTS ***\n${missing}\n`);
const describeBrowser = missing && !process.env.CI ? describe.skip : describe;

type PageVerdict = { ok: boolean; code?: string; signatureChecked: boolean; signatureOk: boolean };

describeBrowser('image verification in Chromium, from the core bundle', () => {
  let browser: ExamplePage;

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    const { code } = await bundle('mcumgr');
    browser = await openBrowser();
    await browser.page.goto(browser.url);
    await browser.page.addScriptTag({ content: new TextDecoder().decode(code) });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Runs the bundle's verifyImage in the page. */
  function verifyInPage(img: Uint8Array, key?: string): Promise<PageVerdict> {
    return browser.page.evaluate(
      async ({ bytes, key }) => {
        const { verifyImage } = (window as unknown as { mcumgr: typeof import('../../src/image/index.js') }).mcumgr;
        const r = await verifyImage(new Uint8Array(bytes), key === undefined ? {} : { key });
        return { ok: r.ok, code: r.error?.code, signatureChecked: r.signatureChecked, signatureOk: r.signatureOk };
      },
      { bytes: Array.from(img), key },
    );
  }

  it('runs in a secure context with WebCrypto and no Node globals', async () => {
    expect(await browser.page.evaluate(() => [isSecureContext, typeof crypto.subtle, typeof (globalThis as { process?: unknown }).process])).toEqual([
      true,
      'object',
      'undefined',
    ]);
  });

  const payload = new Uint8Array(4000).map((_, i) => (i * 31 + 7) & 0xff);
  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048', 'rsa-3072'] as KeyType[]) {
    it(`${type}: accepts the signed image, rejects a flipped byte, a flipped signature and another key`, async () => {
      const key = generateKey(type);
      const img = createImage(payload, { key, padHeader: true, version: '1.2.3' });
      expect(await verifyInPage(img, publicKeyPem(key))).toEqual({ ok: true, signatureChecked: true, signatureOk: true });

      const body = img.slice();
      body[0x20 + 100]! ^= 0x04;
      expect((await verifyInPage(body, publicKeyPem(key))).code).toBe('hash-mismatch');

      const sig = parseImage(img).unprotectedArea.tlvs.at(-1)!;
      const badSig = img.slice();
      badSig[sig.offset + 4 + 12]! ^= 0x01;
      expect(await verifyInPage(badSig, key)).toEqual({ ok: false, code: 'signature-mismatch', signatureChecked: true, signatureOk: false });

      expect((await verifyInPage(img, publicKeyPem(generateKey(type)))).code).toBe('wrong-key');
    });
  }

  it('hash-only images: the hash is checked, a flipped byte fails', async () => {
    const img = createImage(payload, { padHeader: true });
    expect(await verifyInPage(img)).toEqual({ ok: true, signatureChecked: false, signatureOk: false });
    const bad = img.slice();
    bad[0x20 + 5]! ^= 0x80;
    expect((await verifyInPage(bad)).code).toBe('hash-mismatch');
  });
});
