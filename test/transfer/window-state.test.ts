/** The window's state machine driven event by event (no timers), its congestion window and its retransmit timer. */
import { describe, expect, it } from 'vitest';
import { SmpTimeoutError } from '../../src/protocol/errors.js';
import { CongestionWindow, RetransmitTimer, WindowState, type Flight, type WindowOptions } from '../../src/client/window.js';

const CHUNK = 1000;

/** A window over `total` bytes whose `fill` records the chunks it sends. */
function machine(options: Partial<Omit<WindowOptions, 'send'>> & { total: number; start: number; window: number }) {
  const state = new WindowState({ retries: 2, ...options });
  const sent: Flight[] = [];
  const fill = (): number[] => {
    const before = sent.length;
    state.fill(
      () => true,
      (flight) => {
        sent.push(flight);
        return Math.min(options.total, flight.off + CHUNK);
      },
    );
    return sent.slice(before).map((f) => f.off);
  };
  const at = (off: number): Flight => sent.filter((f) => f.off === off).at(-1)!;
  const answer = (off: number, deviceOff: number, ms = 10) => state.handle({ kind: 'answered', flight: at(off), off: deviceOff, ms });
  const silence = (off: number) => state.handle({ kind: 'failed', flight: at(off), error: new SmpTimeoutError('no response') });
  return { state, fill, answer, silence, at };
}

describe('WindowState', () => {
  it('sends a first chunk alone, then fills the window', () => {
    const m = machine({ total: 10_000, start: 0, window: 3 });
    expect(m.state.phase).toBe('sending');
    expect(m.fill()).toEqual([0]);
    expect(m.state.phase).toBe('first-chunk');
    expect(m.fill()).toEqual([]);
    expect(m.answer(0, 1000)).toBe('advanced');
    expect(m.state.phase).toBe('sending');
    expect(m.fill()).toEqual([1000, 2000, 3000]);
    expect(m.state.used).toBe(3);
    expect(m.fill()).toEqual([]);
  });

  it('an answer at the end of its chunk advances; one short of it, with nothing carrying that data, resends from there', () => {
    const m = machine({ total: 10_000, start: 1000, window: 2 });
    m.fill();
    expect(m.answer(1000, 2000)).toBe('advanced');
    expect(m.state.acked).toBe(2000);
    expect(m.fill()).toEqual([3000]);
    // The chunk at 2000 was lost: the one at 3000 is answered with 2000.
    expect(m.answer(3000, 2000)).toBe('resend');
    expect(m.fill()).toEqual([2000, 3000]);
  });

  it('waits for a chunk still on its way that carries the missing data, but not for one presumed lost', () => {
    // Reordering allowed for one answer: the chunk at 1000 is still on its way when the one at 2000 is answered 1000.
    const tolerant = machine({ total: 10_000, start: 1000, window: 3, reorderTolerance: 1 });
    tolerant.fill();
    expect(tolerant.answer(2000, 1000)).toBe('advanced');
    // An answer at exactly a chunk's end does not wait for that chunk.
    const exact = machine({ total: 10_000, start: 1000, window: 3, reorderTolerance: 1 });
    exact.fill();
    expect(exact.answer(2000, 2000)).toBe('resend');
    // Without tolerance the overtaken chunk is presumed lost.
    const strict = machine({ total: 10_000, start: 1000, window: 3 });
    strict.fill();
    expect(strict.answer(2000, 1000)).toBe('resend');
  });

  it('reports progress only when the device moves forward', () => {
    const acks: number[] = [];
    const m = machine({ total: 10_000, start: 1000, window: 2, reorderTolerance: 1, onAck: (off) => acks.push(off) });
    m.fill();
    m.answer(2000, 3000);
    m.answer(1000, 3000);
    expect(acks).toEqual([3000]);
  });

  it('a silent round resends every chunk from the acknowledged offset, at once', () => {
    const m = machine({ total: 10_000, start: 1000, window: 2 });
    m.fill();
    const older = m.at(2000);
    expect(m.silence(1000)).toBe('resend');
    expect(m.fill()).toEqual([1000, 2000]);
    // The older round's silence changes nothing.
    expect(m.state.handle({ kind: 'failed', flight: older, error: new SmpTimeoutError('no response') })).toBe('stale');
    expect(m.fill()).toEqual([]);
  });

  it('a silence of a chunk the device has already acknowledged is stale', () => {
    const m = machine({ total: 10_000, start: 1000, window: 2, reorderTolerance: 1 });
    m.fill();
    // The device already had more data: the answer to the first chunk acknowledges the second one too.
    expect(m.answer(1000, 3000)).toBe('advanced');
    expect(m.silence(2000)).toBe('stale');
    expect(m.state.acked).toBe(3000);
  });

  it('offset 0 for the first chunk is a resend, not a restart: the device has nothing to forget', () => {
    const m = machine({ total: 10_000, start: 0, window: 2 });
    m.fill();
    expect(m.answer(0, 0)).toBe('resend');
    expect(m.fill()).toEqual([0]);
  });

  it('gives up when the device keeps asking for the same data', () => {
    // window 1 growing to 2, no retries: 4 × (0 + 1) × 2 = 8 rewinds without progress are allowed.
    const m = machine({ total: 10_000, start: 1000, window: 1, maxWindow: 2, retries: 0 });
    for (let i = 0; i < 8; i++) {
      m.fill();
      expect(m.answer(1000, 1000)).toBe('resend');
    }
    m.fill();
    expect(() => m.answer(1000, 1000)).toThrow('the transfer makes no progress: the device keeps answering offset 1000 of 10000');
  });

  it('grows while answers come within twice the fastest round trip; downloads shrink on a loss only while answers queue', () => {
    const m = machine({ total: 100_000, start: 1000, window: 2, maxWindow: 8, backOff: 'on-queueing' });
    m.fill();
    m.answer(1000, 2000, 10);
    m.answer(2000, 3000, 20);
    expect(m.state.congestion.size).toBe(4);
    m.fill();
    m.answer(3000, 4000, 21);
    expect(m.state.congestion.size).toBe(4);

    const calm = machine({ total: 100_000, start: 1000, window: 2, maxWindow: 8, backOff: 'on-queueing' });
    calm.fill();
    calm.answer(1000, 2000, 10);
    calm.fill();
    expect(calm.state.congestion.size).toBe(3);
    calm.answer(3000, 2000, 20);
    expect(calm.state.congestion.size).toBe(3);
    calm.fill();
    calm.answer(2000, 3000, 10);
    calm.fill();
    calm.answer(4000, 3000, 21);
    expect(calm.state.congestion.size).toBe(2);
  });

  it('an upload leaves slow start once the chunks queued would fill all but one of the device buffers', () => {
    const up = machine({ total: 100_000, start: 1000, window: 4, maxWindow: 20 });
    up.fill();
    // In flight × (1 − 10 / ms): 4 × 0 = 0 queued, 5 × (1 − 10/12) ≈ 0.8: slow start, one more an answer.
    up.answer(1000, 2000, 10);
    up.answer(2000, 3000, 12);
    expect(up.state.congestion.size).toBe(6);
    // 6 × (1 − 10/20) = 3 queued, all but one of 4 buffers: no growth, and slow start is over.
    up.fill();
    up.answer(3000, 4000, 20);
    expect(up.state.congestion.size).toBe(6);
    up.answer(4000, 5000, 10);
    expect(up.state.congestion.size).toBeCloseTo(6 + 1 / 6);
    // A device with one buffer: one chunk queued ends slow start, none does not.
    const single = machine({ total: 100_000, start: 1000, window: 1, maxWindow: 4 });
    single.fill();
    single.answer(1000, 2000, 10);
    expect(single.state.congestion.size).toBe(2);
    // An answer to a chunk of an earlier round (sent before a rewind) neither grows the window nor ends slow start.
    const late = machine({ total: 100_000, start: 1000, window: 2, maxWindow: 8 });
    late.fill();
    expect(late.answer(2000, 1000, 10)).toBe('resend');
    expect(late.state.congestion.size).toBe(2);
    late.answer(1000, 2000, 10);
    expect(late.state.congestion.size).toBe(2);
    // A download does not count the device's buffers (its reads hold one only while the device reads its flash).
    const down = machine({ total: 100_000, start: 1000, window: 4, maxWindow: 20, backOff: 'on-queueing' });
    down.fill();
    down.answer(1000, 2000, 10);
    down.answer(2000, 3000, 12);
    down.fill();
    down.answer(3000, 4000, 20);
    expect(down.state.congestion.size).toBe(7);
  });

  it('an upload that loses a chunk (a full device buffer) gives up a quarter of its window; silence halves it', () => {
    const grown = () => {
      const up = machine({ total: 100_000, start: 1000, window: 2, maxWindow: 8 });
      let off = 1000;
      while (up.state.congestion.size < 8) {
        up.fill();
        up.answer(off, off + CHUNK);
        off += CHUNK;
      }
      up.fill();
      return { up, off };
    };
    const dropped = grown();
    // The chunk at `off` was dropped: the next one is answered with `off`.
    expect(dropped.up.answer(dropped.off + CHUNK, dropped.off)).toBe('resend');
    expect(dropped.up.state.congestion.size).toBe(6);
    const silent = grown();
    expect(silent.up.silence(silent.off)).toBe('resend');
    expect(silent.up.state.congestion.size).toBe(4);
  });

  it('starts the retransmit timer from a measured round trip', () => {
    const m = machine({ total: 10_000, start: 1000, window: 2, pace: { roundTripMs: 100, window: 4 } });
    expect(m.state.rto.timeout(5000)).toBe(600);
    expect(machine({ total: 10_000, start: 1000, window: 2 }).state.rto.timeout(5000)).toBe(5000);
  });
});

describe('CongestionWindow', () => {
  it('never shrinks below the starting window, and halves towards it', () => {
    const w = new CongestionWindow({ window: 3, maxWindow: 12 });
    expect(w.size).toBe(3);
    for (let i = 0; i < 9; i++) w.grow();
    expect(w.size).toBe(12);
    w.shrink();
    expect(w.size).toBe(6);
    w.grow();
    expect(w.size).toBeCloseTo(6 + 1 / 6);
    w.shrink();
    w.shrink();
    expect(w.size).toBe(3);
    expect(new CongestionWindow({ window: 0 }).size).toBe(1);
  });

  it('paces a measured start: one send per round trip / window, then no more pacing', () => {
    const w = new CongestionWindow({ window: 2, maxWindow: 16, pace: { roundTripMs: 40, window: 8 } });
    expect(w.size).toBe(8);
    expect(w.paceDelay(0)).toBe(0);
    expect(w.paceDelay(1)).toBe(4);
    for (let t = 5; t <= 35; t += 5) expect(w.paceDelay(t)).toBe(0);
    // Eight sends went out: the pace is over.
    expect(w.paceDelay(36)).toBe(0);
    expect(w.paceDelay(36)).toBe(0);
  });

  it('a loss ends the pace', () => {
    const w = new CongestionWindow({ window: 2, maxWindow: 16, pace: { roundTripMs: 40, window: 8 } });
    w.paceDelay(0);
    w.shrink();
    expect(w.paceDelay(1)).toBe(0);
  });
});

describe('RetransmitTimer', () => {
  it('uses the request timeout until a round trip was measured', () => {
    const t = new RetransmitTimer();
    expect(t.timeout(3000)).toBe(3000);
    expect(t.timeout(undefined)).toBeUndefined();
  });

  it("is twice TCP's estimate: smoothed round trip plus four deviations (RFC 6298), within 50 ms and the ceiling", () => {
    const t = new RetransmitTimer();
    t.sample(100); // srtt 100, rttvar 50
    expect(t.timeout(5000)).toBe(2 * (100 + 4 * 50));
    t.sample(200); // rttvar 0.75·50 + 0.25·100 = 62.5, srtt 0.875·100 + 0.125·200 = 112.5
    expect(t.timeout(5000)).toBe(2 * (112.5 + 4 * 62.5));
    expect(t.timeout(500)).toBe(500);
    expect(t.timeout(undefined)).toBe(725);

    const fast = new RetransmitTimer();
    fast.sample(1);
    expect(fast.timeout(5000)).toBe(50);
    const slow = new RetransmitTimer();
    slow.sample(4000);
    expect(slow.timeout(undefined)).toBe(10_000);
  });
});
