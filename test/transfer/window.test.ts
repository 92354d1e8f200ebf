/** The shared sliding window against a scripted device: replies out of order, lost, duplicated; offsets authoritative. */
import { describe, expect, it } from 'vitest';
import { SmpAbortError, SmpTimeoutError } from '../../src/protocol/errors.js';
import { runWindow } from '../../src/client/window.js';
import { seededRandom } from '../../src/device/link/link.js';

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

  it('gives up after exactly the retries: one send and one resend per unanswered round, from the acknowledged offset', async () => {
    const sent: number[] = [];
    const send = (at: number, timeoutMs: number | undefined) => {
      sent.push(at);
      return { end: at + 1000, reply: new Promise<number>((_, reject) => setTimeout(() => reject(new SmpTimeoutError('no response')), timeoutMs)) };
    };
    await expect(runWindow({ total: 10_000, start: 3000, window: 1, retries: 2, timeoutMs: 20, send })).rejects.toThrow(SmpTimeoutError);
    expect(sent).toEqual([3000, 3000, 3000]);
    sent.length = 0;
    await expect(runWindow({ total: 10_000, start: 3000, window: 1, retries: 0, timeoutMs: 20, send })).rejects.toThrow(SmpTimeoutError);
    expect(sent).toEqual([3000]);
  });

  it('counts only silent rounds in a row: an answer between them starts the count again', async () => {
    // Every chunk is lost twice before it gets through: with 2 retries the transfer never gives up.
    const tries = new Map<number, number>();
    let off = 1000;
    const r = await runWindow({
      total: 6000,
      start: 1000,
      window: 1,
      retries: 2,
      timeoutMs: 20,
      send: (at, timeoutMs) => {
        const n = (tries.get(at) ?? 0) + 1;
        tries.set(at, n);
        const end = Math.min(6000, at + 1000);
        if (n <= 2) return { end, reply: new Promise<number>((_, reject) => setTimeout(() => reject(new SmpTimeoutError('no response')), timeoutMs)) };
        if (at === off) off = end;
        return { end, reply: Promise.resolve(off) };
      },
    });
    expect(r.off).toBe(6000);
    expect([...tries.values()]).toEqual([3, 3, 3, 3, 3]);
  });

  it('starts again with a first chunk, once, when the device forgets the transfer in the middle of a window', async () => {
    // The device forgets the upload when chunk 8 arrives (a reset, an idle timeout): it answers offset 0. The
    // answers to the chunks sent after it are held back until the new first chunk is answered: answers of the
    // old round, arriving after new progress, must not start the transfer over again.
    const chunk = 1000;
    const total = 16 * chunk;
    const written = new Uint8Array(total);
    let off = 0;
    let forgotten = false;
    const held: (() => void)[] = [];
    const sent: number[] = [];
    const r = await runWindow({
      total,
      start: 0,
      window: 4,
      retries: 2,
      timeoutMs: 5000,
      send: (at) => {
        sent.push(at);
        const end = Math.min(total, at + chunk);
        const reply = new Promise<number>((resolve) =>
          setTimeout(() => {
            if (at === 8 * chunk && !forgotten) {
              forgotten = true;
              off = 0;
              written.fill(0);
              resolve(0);
              return;
            }
            if (at === off) {
              written.fill(1, at, end);
              off = end;
              resolve(off);
              if (at === 0) for (const release of held.splice(0)) release();
              return;
            }
            if (off === 0) held.push(() => resolve(0));
            else resolve(off);
          }, 1),
        );
        return { end, reply };
      },
    });
    expect(r.off).toBe(total);
    expect(forgotten).toBe(true);
    expect(held).toEqual([]);
    expect(written.every((b) => b === 1)).toBe(true);
    expect(sent.filter((at) => at === 0)).toHaveLength(2);
    // After the restart every chunk is sent once more, in order.
    const restart = sent.lastIndexOf(0);
    expect(sent.slice(restart)).toEqual(Array.from({ length: 16 }, (_, i) => i * chunk));
  });

  it('fails clearly, naming the offset, when the device forgets the transfer again and again', async () => {
    // A device that resets before the transfer ends, every time: progress is lost at each restart.
    let off = 0;
    const sent: number[] = [];
    const run = runWindow({
      total: 10_000,
      start: 0,
      window: 2,
      retries: 2,
      timeoutMs: 1000,
      send: (at) => {
        sent.push(at);
        const end = Math.min(10_000, at + 1000);
        if (at === off) off = end;
        const answer = off >= 4000 ? (off = 0) : off;
        return { end, reply: Promise.resolve(answer) };
      },
    });
    await expect(run).rejects.toThrow(/device forgot the transfer 3 times.*3000 of 10000/);
    expect(sent.filter((at) => at === 0)).toHaveLength(3);
  });

  it('continues from the offset the device reports, not from where it was asked to', async () => {
    // The device already has 6000 bytes: its first answer jumps ahead.
    let off = 6000;
    const sent: number[] = [];
    const r = await runWindow({
      total: 10_000,
      start: 1000,
      window: 1,
      retries: 1,
      timeoutMs: 100,
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
      total: 3000,
      start: 1000,
      window: 2,
      retries: 1,
      timeoutMs: 1000,
      reorderTolerance: 1,
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

  it('with skip (downloads), a lost answer is read again alone: reads still on their way are not sent twice', async () => {
    const chunk = 1000;
    const total = 40 * chunk;
    const have = new Set<number>();
    const prefix = (from: number): number => {
      let p = from;
      while (have.has(p)) p += chunk;
      return p;
    };
    const sent: number[] = [];
    let lostOnce = false;
    const r = await runWindow({
      total,
      start: 0,
      window: 4,
      maxWindow: 8,
      retries: 3,
      timeoutMs: 1000,
      reorderTolerance: 2,
      backOff: 'on-queueing',
      skip: prefix,
      send: (at, timeoutMs, signal) => {
        sent.push(at);
        const reply = new Promise<number>((resolve, reject) => {
          if (at === 5 * chunk && !lostOnce) {
            lostOnce = true; // this answer is lost: only a timeout would ever end the request
            const timer = setTimeout(() => reject(new SmpTimeoutError('no response')), timeoutMs);
            signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
            return;
          }
          setTimeout(() => {
            have.add(at);
            resolve(prefix(0));
          }, 3);
        });
        return { end: Math.min(total, at + chunk), reply };
      },
    });
    expect(r.off).toBe(total);
    expect(lostOnce).toBe(true);
    expect(sent.filter((at) => at === 5 * chunk)).toHaveLength(2);
    expect(sent).toHaveLength(41);
  });

  it('a paced start opens at the measured window, its sends one by one over the round trip instead of in a burst', async () => {
    const chunk = 1000;
    const total = 20 * chunk;
    let off = chunk;
    let answered = false;
    const sent: number[] = [];
    const run = runWindow({
      total,
      start: chunk,
      window: 2,
      maxWindow: 16,
      retries: 1,
      timeoutMs: 5000,
      pace: { roundTripMs: 40, window: 8 },
      send: (at) => {
        if (!answered) sent.push(at);
        const end = Math.min(total, at + chunk);
        // Answers come long after the paced sends (8 over 40 ms) are out.
        const reply = new Promise<number>((resolve) =>
          setTimeout(() => {
            answered = true;
            if (at === off) off = end;
            resolve(off);
          }, 1000),
        );
        return { end, reply };
      },
    });
    // Only the first send leaves at once; the others wait for the pace.
    expect(sent).toEqual([chunk]);
    const r = await run;
    expect(r.off).toBe(total);
    expect(sent).toHaveLength(8);
  });

  it('does not grow while answers queue: a slow link needs only the chunks its round trip holds', async () => {
    // A link that carries one answer per 40 ms after a 5 ms latency: more chunks in flight only wait longer.
    const chunk = 1000;
    const total = 25 * chunk;
    let off = 0;
    let linkFreeAt = 0;
    let inFlight = 0;
    let most = 0;
    const r = await runWindow({
      total,
      start: 0,
      window: 2,
      maxWindow: 16,
      retries: 3,
      timeoutMs: 5000,
      send: (at) => {
        most = Math.max(most, ++inFlight);
        const end = Math.min(total, at + chunk);
        const now = performance.now();
        linkFreeAt = Math.max(now + 5, linkFreeAt) + 40;
        const reply = new Promise<number>((resolve) =>
          setTimeout(() => {
            inFlight--;
            if (at === off) off = end;
            resolve(off);
          }, linkFreeAt - now),
        );
        return { end, reply };
      },
    });
    expect(r.off).toBe(total);
    expect(most).toBeLessThan(8);
  });

  it('aborting the transfer aborts the requests in flight', async () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const run = runWindow({
      total: 10_000,
      start: 1000,
      window: 3,
      retries: 1,
      timeoutMs: 60_000,
      signal: controller.signal,
      send: (at, _timeoutMs, signal) => {
        signals.push(signal);
        // A device that never answers: only the abort ends these requests.
        const reply = new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(new SmpAbortError('request aborted'))));
        return { end: at + 1000, reply };
      },
    });
    await Promise.resolve();
    expect(signals).toHaveLength(3);
    controller.abort();
    await expect(run).rejects.toThrow(SmpAbortError);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('requests still on their way when the device has everything are cancelled, and the first chunk gets the full timeout', async () => {
    const signals: AbortSignal[] = [];
    const timeouts = new Map<number, number | undefined>();
    const r = await runWindow({
      total: 3000,
      start: 0,
      window: 3,
      retries: 1,
      timeoutMs: 4000,
      send: (at, timeoutMs, signal) => {
        signals.push(signal);
        timeouts.set(at, timeoutMs);
        // The answer to the chunk at 1000 acknowledges everything (the device had the rest); the last one never answers.
        const reply = at === 0 ? Promise.resolve(1000) : at === 1000 ? Promise.resolve(3000) : new Promise<number>(() => undefined);
        return { end: at + 1000, reply };
      },
    });
    expect(r.off).toBe(3000);
    expect(timeouts.get(0)).toBe(4000);
    expect(timeouts.get(1000)).toBeLessThan(4000);
    expect(signals).toHaveLength(3);
    expect(signals[2]!.aborted).toBe(true);
  });

  it('stops at once when aborted from a progress callback while nothing is in flight', async () => {
    const controller = new AbortController();
    const sent: number[] = [];
    let off = 0;
    const run = runWindow({
      total: 10_000,
      start: 1000,
      window: 1,
      retries: 1,
      timeoutMs: 1000,
      signal: controller.signal,
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
