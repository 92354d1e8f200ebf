/** The shared sliding window against a scripted device: replies out of order, lost, duplicated; offsets authoritative. */
import { describe, expect, it } from 'vitest';
import { SmpAbortError, SmpTimeoutError } from '../../src/protocol/errors.js';
import { runWindow } from '../../src/client/window.js';
import { seededRandom } from '../../src/transport/link.js';

/**
 * A device that accepts a chunk only at its current offset (Zephyr's rule) and answers with its offset.
 * Requests arrive in order; requests and answers may be lost; answers arrive after a random delay, so out of
 * order. `maxWaiting` is the most requests that had arrived at once without being handled (buffers needed).
 */
function scriptedDevice(total: number, chunk: number, seed: number, loss: number) {
  const random = seededRandom(seed);
  const written = new Uint8Array(total);
  let off = 0;
  let requests = 0;
  let maxWaiting = 0;
  let waiting = 0;
  const send = (at: number, timeoutMs: number | undefined, signal: AbortSignal) => {
    requests++;
    const end = Math.min(total, at + chunk);
    const reply = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SmpTimeoutError('no response')), timeoutMs ?? 200);
      signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      if (random() < loss) return; // request lost
      waiting++;
      maxWaiting = Math.max(maxWaiting, waiting);
      setTimeout(() => {
        waiting--;
        if (at === off) {
          written.fill(1, at, end);
          off = end;
        }
        const answer = off;
        if (random() < loss) return; // answer lost
        setTimeout(() => {
          clearTimeout(timer);
          resolve(answer);
        }, random() * 4);
      }, 1);
    });
    return { end, reply };
  };
  return { send, written, stats: () => ({ requests, maxWaiting }) };
}

describe('runWindow', () => {
  it('completes on a clean link with one request per chunk, never needing more device buffers than the window', async () => {
    const dev = scriptedDevice(50_000, 1000, 1, 0);
    const r = await runWindow({ total: 50_000, start: 0, window: 4, retries: 3, timeoutMs: 500, send: dev.send });
    expect(r.off).toBe(50_000);
    expect(dev.written.every((b) => b === 1)).toBe(true);
    expect(dev.stats().requests).toBe(50);
    expect(dev.stats().maxWaiting).toBeLessThanOrEqual(4);
  });

  it.each([2, 3, 4, 5])('completes with every byte written despite 10%% loss each way (seed %i)', async (seed) => {
    const dev = scriptedDevice(40_000, 1000, seed, 0.1);
    const acks: number[] = [];
    const r = await runWindow({ total: 40_000, start: 0, window: 3, maxWindow: 6, retries: 50, timeoutMs: 300, send: dev.send, onAck: (o) => acks.push(o) });
    expect(r.off).toBe(40_000);
    expect(dev.written.every((b) => b === 1)).toBe(true);
    // Acknowledged offsets only grow.
    expect(acks).toEqual([...acks].sort((a, b) => a - b));
  });

  it.each([
    ['on-loss', false, 'halves'],
    ['on-queueing', false, 'stays'],
    ['on-queueing', true, 'halves'],
  ] as const)('after a lost chunk, backOff %s with answers queueing %s: the window %s', async (backOff, queueing, expected) => {
    const chunk = 1000;
    const total = 30 * chunk;
    let off = 0;
    let inFlight = 0;
    let lostOnce = false;
    let lastAnswer = 0;
    const afterLoss: number[] = [];
    const send = (at: number) => {
      inFlight++;
      if (lostOnce) afterLoss.push(inFlight);
      // Queueing: answers leave one after the other, 3 ms each, like a slow link holding the window. Without
      // queueing every answer takes 20 ms, far enough above timer jitter on a busy machine not to look queued.
      const delay = queueing ? (lastAnswer = Math.max(performance.now(), lastAnswer) + 3) - performance.now() : 20;
      const reply = new Promise<number>((resolve) => {
        setTimeout(() => {
          inFlight--;
          if (at === 20 * chunk && !lostOnce) {
            lostOnce = true; // this request is lost: the next one is answered with the offset still wanted
            return;
          }
          if (at === off) off = at + chunk;
          resolve(off);
        }, delay);
      });
      return { end: Math.min(total, at + chunk), reply };
    };
    const r = await runWindow({ total, start: 0, window: 2, maxWindow: 6, retries: 3, timeoutMs: 1000, backOff, send });
    expect(r.off).toBe(total);
    expect(lostOnce).toBe(true);
    if (expected === 'halves') expect(Math.max(...afterLoss)).toBeLessThan(6);
    else expect(Math.max(...afterLoss)).toBe(6);
  });

  it('gives up with the timeout after the retries when the device never answers', async () => {
    const dev = scriptedDevice(10_000, 1000, 9, 1);
    await expect(runWindow({ total: 10_000, start: 0, window: 2, retries: 2, timeoutMs: 30, send: dev.send })).rejects.toThrow(SmpTimeoutError);
  });

  it('continues from the offset the device reports, not from where it was asked to', async () => {
    // The device already has 6000 bytes: its first answer jumps ahead.
    let off = 6000;
    const sent: number[] = [];
    const r = await runWindow({
      total: 10_000, start: 1000, window: 1, retries: 1, timeoutMs: 100,
      send: (at) => {
        sent.push(at);
        if (at === off) off = Math.min(10_000, at + 1000);
        return { end: at + 1000, reply: Promise.resolve(off) };
      },
    });
    expect(r.off).toBe(10_000);
    expect(sent).toEqual([1000, 6000, 7000, 8000, 9000]);
  });

  it('sends again when every answer is in but the device still lacks data (answers reordered past the window)', async () => {
    // The last chunk reaches the device before the one before it and is refused (answer 1000); the earlier
    // chunk's answer (2000) then acknowledges only up to itself, with nothing left on its way.
    let off = 1000;
    const sent: number[] = [];
    const r = await runWindow({
      total: 3000, start: 1000, window: 2, retries: 1, timeoutMs: 1000, reorderTolerance: 1,
      send: (at) => {
        sent.push(at);
        const end = Math.min(3000, at + 1000);
        if (sent.length === 1) return { end, reply: new Promise<number>((res) => setTimeout(() => res((off = 2000)), 10)) };
        if (sent.length === 2) return { end, reply: new Promise<number>((res) => setTimeout(() => res(1000), 2)) };
        if (at === off) off = end;
        return { end, reply: Promise.resolve(off) };
      },
    });
    expect(r.off).toBe(3000);
    expect(sent).toEqual([1000, 2000, 2000]);
  }, 10_000);

  it('stops at once when aborted from a progress callback while nothing is in flight', async () => {
    const controller = new AbortController();
    const sent: number[] = [];
    let off = 0;
    const run = runWindow({
      total: 10_000, start: 1000, window: 1, retries: 1, timeoutMs: 1000, signal: controller.signal,
      onAck: (o) => o >= 3000 && controller.abort(),
      send: (at) => {
        sent.push(at);
        off = Math.min(10_000, at + 1000);
        return { end: off, reply: Promise.resolve(off) };
      },
    });
    await expect(run).rejects.toThrow(SmpAbortError);
    expect(sent).toEqual([1000, 2000]);
  });
});
