/** The image upload library (src/client/upload.ts) against the virtual device: windowing and resume. */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Simulator } from './helpers.js';

describe('imageUpload', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await Simulator.start();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('resumes an interrupted upload from the offset the device reports', async () => {
    const { SmpClient } = await import(join(ROOT, 'dist/client/client.js'));
    const { UdpTransport } = await import(join(ROOT, 'dist/transport/udp.js'));
    const { imageUpload } = await import(join(ROOT, 'dist/client/upload.js'));
    const { createImage } = await import(join(ROOT, 'dist/image/node.js'));
    const bytes: Uint8Array = createImage(new Uint8Array(randomBytes(60_000)), { version: '3.0.0', padHeader: true });

    const c1 = new SmpClient(await UdpTransport.connect(sim.address), { timeoutMs: 3000 });
    const ac = new AbortController();
    let seen = 0;
    await expect(
      imageUpload(c1, bytes, {
        window: 4,
        signal: ac.signal,
        onProgress: (p: { done: number }) => {
          seen = p.done;
          if (p.done > 20_000) ac.abort();
        },
      }),
    ).rejects.toThrow();
    await c1.close();
    expect(seen).toBeGreaterThan(20_000);

    const c2 = new SmpClient(await UdpTransport.connect(sim.address), { timeoutMs: 3000 });
    const progress: { done: number; resumedFrom?: number }[] = [];
    const r = await imageUpload(c2, bytes, { window: 4, onProgress: (p: { done: number; resumedFrom?: number }) => progress.push(p) });
    await c2.close();
    expect(r.resumedFrom).toBeGreaterThan(20_000);
    expect(progress[0]!.resumedFrom).toBe(r.resumedFrom);
    expect(progress.at(-1)!.done).toBe(bytes.length);
  });
});
