/**
 * The sliding window shared by image upload, file upload and file download (browser-safe).
 *
 * Several chunks are kept in flight; replies are handled in the order they arrive. Each reply carries the
 * device's offset after the chunk, which is authoritative:
 * - an offset at or past the chunk's end acknowledges everything before it (a lost reply costs nothing);
 * - an offset short of the chunk's end means the device missed data there (a lost or dropped request):
 *   sending goes back to that offset at once, without waiting for a timeout;
 * - offset 0 after progress means the device forgot the transfer (reset, or it completed and a resent
 *   last chunk found nothing open): the transfer starts again with a first chunk, which resumes by hash; a device
 *   that forgets it `retries` + 1 times without getting further is resetting, and the window gives up.
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
 * do not queue. Silence halves it back towards `window`; an upload chunk the device dropped (one request more than
 * its buffers hold, not a congested network) takes a quarter off (downloads: see `backOff`).
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
   * When a chunk found missing while later ones are answered shrinks the window. 'on-loss' (default): always, by a
   * quarter; for uploads it is the sign of a device whose buffers overflowed. 'on-queueing' (downloads): by half, only
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

/** A chunk on its way to the device. */
export interface Flight {
  off: number;
  end: number;
  /** The round it was sent in: a rewind starts a new one. */
  epoch: number;
  /** Presumed lost (later chunks were answered first) or answered: no longer counts against the window. */
  gone: boolean;
  /** Answers to later chunks that arrived first. */
  overtaken: number;
}

/** What can happen to a chunk: the device answers with its offset, or the request fails (a timeout, mostly). */
export type WindowEvent = { kind: 'answered'; flight: Flight; off: number; ms: number } | { kind: 'failed'; flight: Flight; error: Error };

/**
 * What an event did: `advanced` (acknowledged, or nothing to do), `resend` (data missing: sending goes back to
 * the device's offset), `restart` (the device forgot the transfer: a first chunk again), `stale` (a timeout of a
 * chunk that no longer matters).
 */
export type WindowOutcome = 'advanced' | 'resend' | 'restart' | 'stale';

/** How many chunks may be in flight: grows like TCP's congestion window, shrinks by `factor` on loss, paces a measured start. */
export class CongestionWindow {
  readonly floor: number;
  readonly ceiling: number;
  size: number;
  private threshold: number;
  private pace: { gapMs: number; left: number; nextAt: number } | undefined;

  constructor(options: Pick<WindowOptions, 'window' | 'maxWindow' | 'pace'>) {
    this.floor = Math.max(1, options.window);
    this.ceiling = Math.max(this.floor, options.maxWindow ?? this.floor);
    this.threshold = this.ceiling;
    // A paced start opens the window wide at once, its first sends spread over one round trip (a burst would arrive
    // faster than the device empties its buffers); answers then clock the next sends.
    this.size = Math.min(this.ceiling, Math.max(this.floor, Math.ceil(options.pace?.window ?? 0)));
    if (options.pace) this.pace = { gapMs: options.pace.roundTripMs / this.size, left: this.size, nextAt: 0 };
  }

  grow(): void {
    this.size = Math.min(this.ceiling, this.size + (this.size < this.threshold ? 1 : 1 / this.size));
  }

  /** From here the window grows by one a round trip (TCP's congestion avoidance), not one an answer. */
  leaveSlowStart(): void {
    this.threshold = Math.min(this.threshold, this.size);
  }

  shrink(factor = 0.5): void {
    this.threshold = Math.max(this.floor, Math.floor(this.size * factor));
    this.size = this.threshold;
    this.pace = undefined;
  }

  /** 0 when the next send may leave now (it is counted), else the milliseconds the pace holds it back. */
  paceDelay(now: number): number {
    if (!this.pace) return 0;
    if (now < this.pace.nextAt) return this.pace.nextAt - now;
    this.pace.nextAt = now + this.pace.gapMs;
    if (--this.pace.left === 0) this.pace = undefined;
    return 0;
  }
}

/**
 * The window's state, driven by events (no timers, no I/O): which chunks are in flight, what the device
 * acknowledged, where sending goes next. Its phase is `first-chunk` while a chunk at offset 0 is on its way (it
 * goes alone), `sending` otherwise, until `done`.
 */
export class WindowState {
  readonly congestion: CongestionWindow;
  readonly rto = new RetransmitTimer();
  /** The device's offset: everything before it is acknowledged. */
  acked: number;
  /** The next offset to send (before `skip`). */
  next: number;
  /** The most chunks that were in flight at once. */
  used = 0;
  private readonly flights: Flight[] = [];
  private epoch = 0;
  private silentRounds = 0;
  private fastest = Number.POSITIVE_INFINITY;
  /** Rewinds since the device last moved forward: a device that keeps asking for the same data is stuck. */
  private rewindsWithoutProgress = 0;
  /** Restarts since the device last got past `highest`: a device that keeps forgetting the transfer is resetting. */
  private restartsWithoutProgress = 0;
  private highest: number;

  constructor(private readonly options: Omit<WindowOptions, 'send' | 'signal'>) {
    this.congestion = new CongestionWindow(options);
    if (options.pace) this.rto.sample(options.pace.roundTripMs);
    this.acked = this.highest = this.next = options.start;
  }

  get phase(): 'first-chunk' | 'sending' | 'done' {
    if (this.acked >= this.options.total) return 'done';
    return this.flights.some((f) => f.off === 0 && !f.gone) ? 'first-chunk' : 'sending';
  }

  /** No chunk is on its way (answered or not). */
  get idle(): boolean {
    return this.flights.length === 0;
  }

  private active(): number {
    return this.flights.reduce((n, f) => n + (f.gone ? 0 : 1), 0);
  }

  /**
   * Sends (through `launch`) what the window allows now, while `paced` lets it. A first chunk goes alone: nothing
   * else is sent while one is on its way, and it waits until nothing else counts against the window.
   */
  fill(paced: () => boolean, launch: (flight: Flight) => number): void {
    const firstPending = this.phase === 'first-chunk';
    this.next = this.skip(this.next);
    while (!firstPending && this.next < this.options.total && this.active() < this.congestion.size && !(this.next === 0 && this.active() > 0) && paced()) {
      const flight: Flight = { off: this.next, end: this.next, epoch: this.epoch, gone: false, overtaken: 0 };
      flight.end = launch(flight);
      this.flights.push(flight);
      this.next = flight.end;
      this.used = Math.max(this.used, this.active());
      if (flight.off === 0) break;
      this.next = this.skip(this.next);
    }
  }

  /** Every answer is in, yet the device still lacks data (the answers that would have sent it again were stale): send from its offset again. */
  stalled(): void {
    this.rewind(this.acked);
  }

  handle(event: WindowEvent): WindowOutcome {
    const f = event.flight;
    const index = this.flights.indexOf(f);
    this.flights.splice(index, 1);
    return event.kind === 'failed' ? this.failed(f, event.error) : this.answered(f, index, event.off, event.ms);
  }

  private failed(f: Flight, error: Error): WindowOutcome {
    if (!(error instanceof SmpTimeoutError)) throw error;
    if (f.epoch !== this.epoch || f.end <= this.acked || f.gone) return 'stale';
    if (++this.silentRounds > this.options.retries) throw error;
    for (const g of this.flights) g.gone = true;
    this.congestion.shrink();
    this.rewind(this.acked);
    this.options.onRetry?.(this.acked, 'timeout');
    return 'resend';
  }

  private answered(f: Flight, index: number, off: number, ms: number): WindowOutcome {
    this.silentRounds = 0;
    this.rto.sample(ms);
    this.fastest = Math.min(this.fastest, ms);
    for (let i = 0; i < index; i++) {
      const g = this.flights[i]!;
      if (++g.overtaken > (this.options.reorderTolerance ?? 0)) g.gone = true;
    }
    if (off === 0 && this.acked > 0 && f.epoch === this.epoch) {
      this.restart();
      return 'restart';
    }
    if (off > this.options.total) throw new SmpError(`the device acknowledged offset ${off}, past the end of the ${this.options.total} bytes sent`);
    if (off > this.acked) {
      this.rewindsWithoutProgress = 0;
      this.acked = Math.min(off, this.options.total);
      if (this.acked > this.highest) {
        this.highest = this.acked;
        this.restartsWithoutProgress = 0;
      }
      this.options.onAck?.(this.acked);
    }
    const late = (g: Flight): boolean => !g.gone && g.epoch === this.epoch && g.off <= off && off < g.end;
    if (off < f.end && off >= this.acked && f.epoch === this.epoch && !this.flights.some(late)) {
      // Data is missing at `off` and no chunk carrying it is still on its way: send it again.
      if (this.options.backOff !== 'on-queueing') this.congestion.shrink(0.75);
      else if (ms > 2 * this.fastest) this.congestion.shrink();
      this.rewind(off);
      this.options.onRetry?.(off, 'missing');
      return 'resend';
    }
    if (f.epoch === this.epoch) {
      // An upload's chunks queue in the device's few buffers: once the chunks waiting somewhere (Little's law:
      // in flight × (1 − shortest / this round trip)) would fill all but one of them, slow start is over (as TCP's
      // HyStart leaves it on a rising delay), and the window grows no more while they do.
      if (this.options.backOff !== 'on-queueing' && this.queued(ms) >= Math.max(1, this.congestion.floor - 1)) this.congestion.leaveSlowStart();
      // Growing while answers take twice the shortest round trip would only lengthen the queue they wait in.
      else if (ms <= 2 * this.fastest) this.congestion.grow();
    }
    if (this.next < this.acked) this.next = this.acked;
    return 'advanced';
  }

  /** Chunks waiting in a queue, by Little's law over the window: in flight × (1 − shortest / this round trip). */
  private queued(ms: number): number {
    return this.congestion.size * (1 - this.fastest / ms);
  }

  /** The device forgot the transfer: start over with a first chunk (it resumes by hash where it can). */
  private restart(): void {
    if (++this.restartsWithoutProgress > this.options.retries) {
      throw new SmpError(
        `the device forgot the transfer ${this.restartsWithoutProgress} times without getting past offset ${this.highest} of ` +
          `${this.options.total} (is it resetting?)`,
      );
    }
    this.acked = 0;
    for (const g of this.flights) g.gone = true;
    this.rewind(0);
  }

  private rewind(to: number): void {
    if (++this.rewindsWithoutProgress > 4 * (this.options.retries + 1) * this.congestion.ceiling) {
      throw new SmpError(`the transfer makes no progress: the device keeps answering offset ${this.acked} of ${this.options.total}`);
    }
    this.epoch++;
    this.next = to;
  }

  /** The first offset at or after `off` that needs sending: past what `options.skip` says arrived, and past chunks on their way. */
  private skip(off: number): number {
    const { skip } = this.options;
    if (!skip) return off;
    for (let at = skip(off); ; at = skip(at)) {
      const onItsWay = this.flights.find((f) => !f.gone && f.off === at);
      if (!onItsWay) return at;
      at = onItsWay.end;
    }
  }
}

/** Runs the window until the device acknowledges `total`; returns the device's final offset and the largest window used. */
export async function runWindow(options: WindowOptions): Promise<{ off: number; maxWindow: number }> {
  if (options.signal?.aborted) throw new SmpAbortError('request aborted');
  const state = new WindowState(options);
  const events: WindowEvent[] = [];
  let wake: (() => void) | undefined;
  let paceTimer: ReturnType<typeof setTimeout> | undefined;
  // One controller per request (one listener per signal), all aborted when the window ends or the caller aborts.
  const controllers = new Set<AbortController>();
  const stopAll = (): void => {
    for (const c of controllers) c.abort();
    controllers.clear();
  };
  options.signal?.addEventListener('abort', stopAll, { once: true });

  /** False when the pace holds the next send back (a timer wakes the loop then). */
  const paced = (): boolean => {
    const wait = state.congestion.paceDelay(performance.now());
    if (wait === 0) return true;
    paceTimer ??= setTimeout(() => {
      paceTimer = undefined;
      wake?.();
    }, wait);
    return false;
  };
  /** Sends the flight's chunk; its answer or failure becomes an event. Returns the chunk's end. */
  const launch = (flight: Flight): number => {
    const sentAt = performance.now();
    const controller = new AbortController();
    controllers.add(controller);
    const chunk = options.send(flight.off, flight.off === 0 ? options.timeoutMs : state.rto.timeout(options.timeoutMs), controller.signal);
    chunk.reply
      .then(
        (off) => events.push({ kind: 'answered', flight, off, ms: performance.now() - sentAt }),
        (error: Error) => events.push({ kind: 'failed', flight, error }),
      )
      .finally(() => {
        controllers.delete(controller);
        wake?.();
      });
    return chunk.end;
  };

  try {
    while (state.phase !== 'done') {
      // The abort may come from a progress callback while no request is in flight to carry it.
      if (options.signal?.aborted) throw new SmpAbortError('request aborted');
      state.fill(paced, launch);
      if (events.length === 0 && state.idle && !paceTimer) {
        state.stalled();
        continue;
      }
      if (events.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const event = events.shift();
      if (event) state.handle(event);
    }
    return { off: state.acked, maxWindow: state.used };
  } finally {
    clearTimeout(paceTimer);
    options.signal?.removeEventListener('abort', stopAll);
    stopAll();
  }
}
