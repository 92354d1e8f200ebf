/**
 * The sliding window shared by image upload, file upload and file download (browser-safe).
 *
 * Several chunks are kept in flight; replies are handled in the order they arrive. Each reply carries the
 * device's offset after the chunk, which is authoritative:
 * - an offset at or past the chunk's end acknowledges everything before it (a lost reply costs nothing);
 * - an offset short of the chunk's end means the device missed data there (a lost or dropped request):
 *   sending goes back to that offset at once, without waiting for a timeout;
 * - offset 0 after progress means the device forgot the transfer (reset, or it completed and a resent
 *   last chunk found nothing open): the transfer starts again with a first chunk, which resumes by hash.
 * A rewind starts a new epoch: replies to chunks of older epochs still acknowledge data but never rewind.
 * Only when nothing answers does a chunk's timeout (an adaptive RTO) send again from the last acknowledged
 * offset. Chunks sent before an answered one, still unanswered, are presumed lost and stop counting against
 * the window, so the device never holds more requests than the window.
 *
 * A device buffer is busy only while the device handles the request, not for the whole round trip, so a long
 * link needs more chunks in flight than the device has buffers. The window starts at `window` (the device's buffer
 * count: that many requests can always wait in the device), or, when the caller measured what the link holds, at
 * that many chunks sent one by one over a round trip rather than in a burst the device's buffers cannot hold.
 * Like TCP's congestion window it then grows up to `maxWindow` while every chunk is answered in order and answers
 * do not queue. Any sign of a lost or dropped chunk halves it back towards `window` (downloads: see `backOff`).
 */
import { SmpAbortError, SmpError, SmpTimeoutError } from '../protocol/errors.js';

export interface WindowChunk {
  /** Offset just past this chunk's data. */
  end: number;
  /** The device's offset after handling the chunk. */
  reply: Promise<number>;
}

export interface WindowOptions {
  total: number;
  /** Offset the device has already acknowledged. */
  start: number;
  /** Chunks in flight at first, and never fewer. */
  window: number;
  /** Chunks in flight at most (default `window`: no growth). */
  maxWindow?: number;
  /**
   * When a chunk found missing while later ones are answered halves the window's growth. 'on-loss' (default):
   * always; for uploads it is the sign of a device whose buffers overflowed. 'on-queueing' (downloads): only
   * when the answer that revealed it took more than twice the shortest round trip seen, i.e. answers are
   * waiting in the link: a download request holds a device buffer only while the device reads its flash, so a
   * lost answer on a link that is not queueing says nothing about the device's load. Silence (a chunk's
   * timeout) always halves it.
   */
  backOff?: 'on-loss' | 'on-queueing';
  /**
   * What a first exchange measured (a download's first read): its round trip, and the chunks in flight that keep
   * the link busy over it. The window opens at that many at once, its first sends spread evenly over the round
   * trip; without it the window starts at `window`.
   */
  pace?: { roundTripMs: number; window: number };
  /** Unanswered rounds in a row before giving up. */
  retries: number;
  /** Largest per-chunk timeout (the request timeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sends the chunk at `off`. `first` chunks (offset 0) are sent alone and keep the full timeout. */
  send(off: number, timeoutMs: number | undefined, signal: AbortSignal): WindowChunk;
  /**
   * Answers to later chunks that may overtake an unanswered one before it is presumed lost. 0 (default) for
   * uploads, where the device answers in order and says where it is; downloads allow for answers reordered
   * on the way back.
   */
  reorderTolerance?: number;
  /**
   * The first offset at or after `off` that still needs sending. Downloads skip what arrived out of order and,
   * since each read is answered on its own, what is still on its way: a rewind resends only what is missing.
   */
  skip?(off: number): number;
  onAck?(off: number): void;
  /** Sending goes back to `off`: a chunk went unanswered ('timeout'), or the device lacks data there ('missing'). */
  onRetry?(off: number, reason: 'timeout' | 'missing'): void;
}

/**
 * Round-trip estimate for chunk timeouts (in the spirit of TCP's RTO): on a lossy link a lost chunk costs
 * a few round trips instead of the full request timeout.
 */
export class RetransmitTimer {
  private srtt: number | undefined;
  private rttvar = 0;

  sample(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  timeout(ceiling: number | undefined): number | undefined {
    if (this.srtt === undefined) return ceiling;
    // Twice TCP's estimate: while the window grows, answers queue longer and the estimate lags behind them.
    const rto = Math.max(50, 2 * (this.srtt + 4 * this.rttvar));
    return ceiling === undefined ? Math.min(rto, 10_000) : Math.min(rto, ceiling);
  }
}

interface Flight {
  off: number;
  end: number;
  epoch: number;
  /** Presumed lost (later chunks were answered first) or answered: no longer counts against the window. */
  gone: boolean;
  /** Answers to later chunks that arrived first. */
  overtaken: number;
}

type Event = { flight: Flight; ok: true; off: number; ms: number } | { flight: Flight; ok: false; error: Error };

/** Runs the window until the device acknowledges `total`; returns the device's final offset and the largest window used. */
export async function runWindow(options: WindowOptions): Promise<{ off: number; maxWindow: number }> {
  const { total, retries } = options;
  const tolerance = options.reorderTolerance ?? 0;
  const floor = Math.max(1, options.window);
  const ceiling = Math.max(floor, options.maxWindow ?? floor);
  // A paced start opens the window wide at once, its first sends spread over one round trip (a burst would arrive
  // faster than the device empties its buffers); answers then clock the next sends.
  let window = Math.min(ceiling, Math.max(floor, Math.ceil(options.pace?.window ?? 0)));
  let pace = options.pace ? { gapMs: options.pace.roundTripMs / window, left: window, nextAt: 0 } : undefined;
  let paceTimer: ReturnType<typeof setTimeout> | undefined;
  let threshold = ceiling;
  const grow = (): void => {
    window = Math.min(ceiling, window + (window < threshold ? 1 : 1 / window));
  };
  const shrink = (): void => {
    threshold = Math.max(floor, Math.floor(window / 2));
    window = threshold;
    pace = undefined;
  };
  /** False when the pace holds the next send back (a timer wakes the loop then). */
  const paced = (): boolean => {
    if (!pace) return true;
    const now = performance.now();
    if (now < pace.nextAt) {
      paceTimer ??= setTimeout(() => {
        paceTimer = undefined;
        wake?.();
      }, pace.nextAt - now);
      return false;
    }
    pace.nextAt = now + pace.gapMs;
    if (--pace.left === 0) pace = undefined;
    return true;
  };
  // One controller per request (one listener per signal), all aborted when the window ends or the caller aborts.
  const controllers = new Set<AbortController>();
  const stopAll = (): void => {
    for (const c of controllers) c.abort();
    controllers.clear();
  };
  if (options.signal?.aborted) throw new SmpAbortError('request aborted');
  options.signal?.addEventListener('abort', stopAll, { once: true });

  const rto = new RetransmitTimer();
  if (options.pace) rto.sample(options.pace.roundTripMs);
  const flights: Flight[] = [];
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  let acked = options.start;
  let next = acked;
  let epoch = 0;
  let silentRounds = 0;
  let used = 0;
  let fastest = Number.POSITIVE_INFINITY;

  const active = (): number => flights.reduce((n, f) => n + (f.gone ? 0 : 1), 0);
  const send = (): void => {
    const first = next === 0;
    const sentAt = performance.now();
    const controller = new AbortController();
    controllers.add(controller);
    const chunk = options.send(next, first ? options.timeoutMs : rto.timeout(options.timeoutMs), controller.signal);
    const flight: Flight = { off: next, end: chunk.end, epoch, gone: false, overtaken: 0 };
    flights.push(flight);
    next = chunk.end;
    chunk.reply
      .then(
        (off) => events.push({ flight, ok: true, off, ms: performance.now() - sentAt }),
        (error: Error) => events.push({ flight, ok: false, error }),
      )
      .finally(() => {
        controllers.delete(controller);
        wake?.();
      });
  };
  const skip = (off: number): number => {
    if (!options.skip) return off;
    for (let at = options.skip(off); ; at = options.skip(at)) {
      const onItsWay = flights.find((f) => !f.gone && f.off === at);
      if (!onItsWay) return at;
      at = onItsWay.end;
    }
  };
  // Rewinds since the device last moved forward: a device that keeps asking for the same data is stuck.
  let rewindsWithoutProgress = 0;
  const rewind = (to: number): void => {
    if (++rewindsWithoutProgress > 4 * (retries + 1) * ceiling) {
      throw new SmpError(`the transfer makes no progress: the device keeps answering offset ${acked} of ${total}`);
    }
    epoch++;
    next = to;
  };

  try {
    while (acked < total) {
      // The abort may come from a progress callback while no request is in flight to carry it.
      if (options.signal?.aborted) throw new SmpAbortError('request aborted');
      const firstPending = flights.some((f) => f.off === 0 && !f.gone);
      next = skip(next);
      while (!firstPending && next < total && active() < window && !(next === 0 && active() > 0) && paced()) {
        send();
        used = Math.max(used, active());
        if (flights[flights.length - 1]!.off === 0) break;
        next = skip(next);
      }
      if (events.length === 0 && flights.length === 0 && !paceTimer) {
        // Every answer is in, yet the device still lacks data (the answers that would have sent it again were
        // stale ones): nothing is left to wait for, so send from the device's offset again.
        rewind(acked);
        continue;
      }
      if (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const ev = events.shift();
      if (!ev) continue;
      const f = ev.flight;
      const index = flights.indexOf(f);
      flights.splice(index, 1);
      if (!ev.ok) {
        if (!(ev.error instanceof SmpTimeoutError)) throw ev.error;
        if (f.epoch !== epoch || f.end <= acked || f.gone) continue;
        if (++silentRounds > retries) throw ev.error;
        for (const g of flights) g.gone = true;
        shrink();
        rewind(acked);
        options.onRetry?.(acked, 'timeout');
        continue;
      }
      silentRounds = 0;
      rto.sample(ev.ms);
      fastest = Math.min(fastest, ev.ms);
      for (let i = 0; i < index; i++) {
        const g = flights[i]!;
        if (++g.overtaken > tolerance) g.gone = true;
      }
      if (ev.off === 0 && acked > 0 && f.epoch === epoch) {
        // The device forgot the transfer: start over with a first chunk (it resumes by hash where it can).
        acked = 0;
        for (const g of flights) g.gone = true;
        rewind(0);
        continue;
      }
      if (ev.off > total) throw new SmpError(`the device acknowledged offset ${ev.off}, past the end of the ${total} bytes sent`);
      if (ev.off > acked) {
        rewindsWithoutProgress = 0;
        acked = Math.min(ev.off, total);
        options.onAck?.(acked);
      }
      const late = (g: Flight): boolean => !g.gone && g.epoch === epoch && g.off <= ev.off && ev.off < g.end;
      if (ev.off < f.end && ev.off >= acked && f.epoch === epoch && !flights.some(late)) {
        // Data is missing at `off` and no chunk carrying it is still on its way: send it again.
        if (options.backOff !== 'on-queueing' || ev.ms > 2 * fastest) shrink();
        rewind(ev.off);
        options.onRetry?.(ev.off, 'missing');
      } else {
        // Growing while answers take twice the shortest round trip would only lengthen the queue they wait in.
        if (f.epoch === epoch && ev.ms <= 2 * fastest) grow();
        if (next < acked) next = acked;
      }
    }
    return { off: acked, maxWindow: used };
  } finally {
    clearTimeout(paceTimer);
    options.signal?.removeEventListener('abort', stopAll);
    stopAll();
  }
}
