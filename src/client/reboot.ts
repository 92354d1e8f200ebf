/** Waiting for a device to reboot after `os reset`: gone down first, then answering again. */
import { os } from '../groups/index.js';
import { encodeCbor } from '../protocol/cbor.js';
import { SmpAbortError, SmpTimeoutError } from '../protocol/errors.js';
import type { SmpClient } from './client.js';

/**
 * How long Zephyr keeps running after it has answered `os reset`: CONFIG_MCUMGR_GRP_OS_RESET_MS (default 250,
 * subsys/mgmt/mcumgr/grp/os_mgmt/Kconfig); MCUboot's serial recovery waits about as long (boot_serial.c).
 */
export const DEFAULT_RESET_DELAY_MS = 250;

export interface RebootWaitOptions {
  /** Give up when the device has not answered again within this many milliseconds of the reset answer. */
  timeoutMs: number;
  /** How long the device keeps answering after its reset answer (default {@link DEFAULT_RESET_DELAY_MS}). */
  resetDelayMs?: number;
  /** Reopens the link when it was lost (a USB CDC port re-enumerating, a BLE link dropped by the reboot). */
  reopen?: () => Promise<SmpClient>;
  /** Told what the wait is doing, for progress output. */
  onStatus?: (status: 'down' | 'reopening' | 'probing') => void;
}

const FIRST_PROBE_INTERVAL_MS = 25;
const LAST_PROBE_INTERVAL_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Call right after the device answered `os reset`. Resolves with the client to use (a reopened one if the link
 * was lost) once the rebooted device answers.
 *
 * The device answers for `resetDelayMs` after its reset answer. Every probe goes out later than that on the
 * client's clock, so it reaches the device after it went down, however late this machine runs: an answer to
 * any probe can only come from the rebooted device. Probes are never cancelled by a timeout (an answer to an
 * early probe held up in a queue counts as much as one to the latest), and go out further apart the longer
 * the device stays silent.
 */
export async function waitForReboot(client: SmpClient, options: RebootWaitOptions): Promise<SmpClient> {
  const deadline = performance.now() + options.timeoutMs;
  await sleep(options.resetDelayMs ?? DEFAULT_RESET_DELAY_MS);
  options.onStatus?.('down');
  const probeBody = encodeCbor({ d: 'reboot?' });
  let current = client;
  let retryDelay = FIRST_PROBE_INTERVAL_MS;
  // The link is not usable yet (a USB CDC port re-enumerating, a write refused): try again a little later.
  const pause = async () => {
    await sleep(Math.min(retryDelay, Math.max(0, deadline - performance.now())));
    retryDelay = Math.min(retryDelay * 2, LAST_PROBE_INTERVAL_MS);
  };
  while (performance.now() < deadline) {
    if (current.closeReason) {
      if (!options.reopen) break;
      options.onStatus?.('reopening');
      try {
        current = await options.reopen();
      } catch {
        await pause();
        continue;
      }
    }
    options.onStatus?.('probing');
    const outcome = await probeUntilAnswered(current, probeBody, deadline);
    if (outcome === 'answered') return current;
    if (outcome === 'send-failed') await pause();
  }
  throw new SmpTimeoutError(
    `the device did not answer within ${options.timeoutMs / 1000} s after the reset; ` +
      'check that it booted (a pending image that fails to boot is reverted by MCUboot), then retry',
  );
}

/**
 * Sends echo probes on one link, each further apart than the last, keeping all of them pending, until one is
 * answered (any answer, even an error code, means the device is up), a send fails, the link closes or the
 * deadline passes.
 */
async function probeUntilAnswered(client: SmpClient, body: Uint8Array, deadline: number): Promise<'answered' | 'send-failed' | 'stopped'> {
  const abort = new AbortController();
  let answered = false;
  let linkLost = false;
  let wake: (() => void) | undefined;
  let interval = FIRST_PROBE_INTERVAL_MS;
  const probe = (): void => {
    const timeoutMs = Math.max(1, deadline - performance.now());
    client.send(os.echo.group, os.echo.id, os.echo.op, body, { timeoutMs, tries: 1, signal: abort.signal }).then(
      () => {
        answered = true;
        wake?.();
      },
      (err: unknown) => {
        if (!(err instanceof SmpTimeoutError) && !(err instanceof SmpAbortError)) linkLost = true;
        wake?.();
      },
    );
  };
  try {
    while (!answered && !linkLost && !client.closeReason && performance.now() < deadline) {
      probe();
      const wait = Math.min(interval, deadline - performance.now());
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(0, wait));
      });
      clearTimeout(timer);
      interval = Math.min(interval * 2, LAST_PROBE_INTERVAL_MS);
    }
    return answered ? 'answered' : linkLost ? 'send-failed' : 'stopped';
  } finally {
    abort.abort();
  }
}
