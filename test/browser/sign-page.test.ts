/**
 * The signing example (example/sign.ts): a WebCrypto key that cannot be exported signs a hash-only image. In Node's
 * WebCrypto, and on the built page in headless Chromium.
 */
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, verifyImage, parseImage, addSignature, type ImageError } from '../../src/image/node.js';
import { createSigningKey, signInBrowser } from '../../example/sign.js';
import { chromiumMissing, openBrowser, type ExamplePage } from './chromium.js';

const hashOnly = () =>
  createImage(
    new Uint8Array(6000).map((_, i) => (i * 11) & 0xff),
    { version: '4.5.6', padHeader: true, headerSize: 0x200 },
  );

describe('example/sign.ts in Node', () => {
  it('a non-extractable P-256 key signs an image that verifies with the PEM it shows', async () => {
    const key = await createSigningKey(webcrypto.subtle as unknown as SubtleCrypto);
    const signed = await signInBrowser(hashOnly(), key);
    expect(parseImage(signed).tlvs.map((t) => t.name)).toEqual(['SHA256', 'KEYHASH', 'ECDSA_SIG']);
    const r = await verifyImage(signed, { key: key.publicKeyPem });
    expect(r.error).toBeUndefined();
    expect(r.signatureOk && r.keyMatch).toBe(true);
  });

  it('refuses what it cannot sign without changing the signed region: signed, padded, tampered images', async () => {
    const key = await createSigningKey(webcrypto.subtle as unknown as SubtleCrypto);
    const code = async (img: Uint8Array) => (await addSignature(img, key.signer).catch((e: ImageError) => e)) as ImageError;
    expect((await code(await signInBrowser(hashOnly(), key))).message).toMatch(/already signed/);
    expect((await code(createImage(new Uint8Array(100), { version: '1.0.0', padHeader: true, slotSize: 0x8000, pad: true }))).message).toMatch(/padded/);
    const tampered = hashOnly();
    tampered[0x300]! ^= 1;
    expect((await code(tampered)).code).toBe('hash-mismatch');
  });
});

const missing = chromiumMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE BROWSER SIGNING TEST ***\n${missing}\n`);
const describeBrowser = missing && !process.env.CI ? describe.skip : describe;

describeBrowser('example/sign.html in headless Chromium', () => {
  let b: ExamplePage;
  beforeAll(async () => {
    b = await openBrowser();
  }, 60_000);
  afterAll(() => b?.close());

  it('signs a chosen image; the download verifies with the public key the page shows', async () => {
    await b.page.goto(`${b.url}sign.html`);
    await b.page.setInputFiles('#image', { name: 'app.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(hashOnly()) });
    const link = b.page.locator('#status a');
    await link.waitFor();
    expect(await link.textContent()).toMatch(/^download app\.signed\.bin/);
    const signed = new Uint8Array(
      await b.page.evaluate(async () => {
        const href = document.querySelector<HTMLAnchorElement>('#status a')!.href;
        return [...new Uint8Array(await (await fetch(href)).arrayBuffer())];
      }),
    );
    const pem = (await b.page.locator('#public-key').textContent())!;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const r = await verifyImage(signed, { key: pem });
    expect(r.error).toBeUndefined();
    expect(r.signatureOk).toBe(true);
  }, 60_000);
});
