/** Debian's Chromium driven by playwright-core (which downloads no browser), with the example page served. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
// @ts-expect-error plain JavaScript build scripts of the example page
import { buildExample, exampleIsStale } from '../../example/build.mjs';
// @ts-expect-error plain JavaScript build scripts of the example page
import { serveExample } from '../../example/serve.mjs';
// @ts-expect-error plain JavaScript build script of the web app
import { buildWebApp, webAppIsStale, WEB_DIST } from '../../web/build.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Why the browser tests cannot run, or undefined when they can. `npm test` installs Chromium first
 * (scripts/ensure-chromium.mjs); under CI a missing Chromium fails the tests instead of skipping them.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return (
    `Chromium not found at ${CHROMIUM}: the browser tests (test/browser/example-page.test.ts) cannot run. ` +
    'Install it with `sudo apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM_PATH; ' +
    '`npm test` tries `node scripts/ensure-chromium.mjs` first when run as root.'
  );
}

// The network is closed here: no first-run, sync, component or field-trial traffic, and no QUIC.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ExamplePage {
  page: Page;
  url: string;
  close(): Promise<void>;
}

/**
 * Builds the example page (or with `site: 'web'` the web device manager) when stale, serves it on 127.0.0.1 and
 * opens a fresh Chromium profile on it.
 */
export async function openBrowser(options: { site?: 'example' | 'web' } = {}): Promise<ExamplePage & { context: BrowserContext }> {
  const web = options.site === 'web';
  if (web ? webAppIsStale() : exampleIsStale()) await (web ? buildWebApp() : buildExample());
  const { server, url } = (await serveExample(0, web ? WEB_DIST : undefined)) as { server: Server; url: string };
  const profile = mkdtempSync(join(tmpdir(), 'mcumgr-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    url,
    async close() {
      await context.close().catch(() => undefined);
      await new Promise((r) => server.close(r));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
