/**
 * Transfers across a lost link (a UDP device restarting, a USB CDC port re-enumerating): the CLI reopens the link
 * within the timeout budget and lets the transfer continue from what it already has; when the device stays away,
 * a clear error that says what running the command again does.
 */
import type { SmpClient } from '../client/client.js';
import { SmpAbortError, SmpDeviceError, SmpError } from '../protocol/errors.js';
import { TransportError } from '../transport/transport.js';
import type { Ctx } from './ctx.js';
import type { ProgressBar } from './progress.js';

export interface KeptTransfer<T> {
  /** `upload` or `download`, for the messages. */
  operation: string;
  bar: ProgressBar;
  /** What running the same command again does, appended to a give-up message. */
  again: string;
  /** Bytes acknowledged so far: the budget starts again once they grow. */
  done: () => number;
  /** Runs (or continues) the transfer on this client. */
  attempt: (client: SmpClient) => Promise<T>;
}

/** Runs `t.attempt`, reopening the link and attempting again whenever the link is lost, within `ctx.timeoutMs`. */
export async function keepLink<T>(ctx: Ctx, t: KeptTransfer<T>): Promise<T> {
  let c = await ctx.client();
  // The timeout budget counts from the moment the link was lost, and starts again once the transfer progresses.
  let lostAt: number | undefined;
  let doneAtLoss = -1;
  for (;;) {
    try {
      return await t.attempt(c);
    } catch (err) {
      // A link that closed, or one that failed a write before its close was noticed (a pty gone: EIO).
      const lost = c.closeReason ?? (err instanceof TransportError ? err : undefined);
      if (!lost) {
        // Unanswered requests (the device away, or dropping them).
        if (err instanceof SmpError && !(err instanceof SmpDeviceError) && !(err instanceof SmpAbortError)) err.message += `; ${t.again}`;
        throw err;
      }
      t.bar.finish();
      if (lostAt === undefined || t.done() > doneAtLoss) lostAt = performance.now();
      doneAtLoss = t.done();
      const left = ctx.timeoutMs - (performance.now() - lostAt);
      if (left <= 0) {
        throw new TransportError(`the link to the device was lost (${lost.message}) and did not come back within ${ctx.timeoutMs / 1000} s; ${t.again}`);
      }
      t.bar.reconnect(lost.message);
      if (!ctx.json) ctx.log(`The link was lost (${lost.message}); reconnecting to resume the ${t.operation}`);
      // A UDP link reopens at once even while the device is down: don't spin on its refusals.
      await pace(100);
      c = await reopen(ctx, lost, left, t.again);
    } finally {
      t.bar.finish();
    }
  }
}

/** Reopens the link until it works or `budgetMs` has passed; then a clear error that says what running again does. */
async function reopen(ctx: Ctx, lost: Error, budgetMs: number, again: string): Promise<SmpClient> {
  const deadline = performance.now() + budgetMs;
  for (let pause = 100; ; pause = Math.min(2 * pause, 1000)) {
    try {
      return await ctx.reconnect();
    } catch (err) {
      if (performance.now() + pause >= deadline) {
        const reopening = `could not be reopened within ${budgetMs / 1000} s (${(err as Error).message})`;
        throw new TransportError(`the link to the device was lost (${lost.message}) and ${reopening}; ${again}`);
      }
    }
    await pace(pause);
  }
}

/** A pause between attempts to reach a device that is away; no outcome depends on its length. */
function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
