/** Names MCUboot's serial recovery when a command the bootloader does not have was refused there. */
import { inSerialRecovery, NEEDS_APPLICATION } from '../client/bootloader.js';
import type { SmpClient } from '../client/client.js';
import { SmpDeviceError } from '../protocol/errors.js';

/**
 * A "not supported" (rc 8) answer gets a hint naming the application's Kconfig option; from a bootloader that
 * advice is wrong. One image list tells them apart: the error is then re-worded to name the mode.
 */
export async function explainInRecovery(ctx: { openedClient(): Promise<SmpClient> | undefined; timeoutMs: number }, err: unknown): Promise<unknown> {
  if (!(err instanceof SmpDeviceError) || err.kind !== 'mgmt' || err.rc !== 8) return err;
  const opened = ctx.openedClient();
  if (!opened) return err;
  try {
    const client = await opened;
    if (client.closeReason || !(await inSerialRecovery(client, Math.min(ctx.timeoutMs, 3000)))) return err;
  } catch {
    return err;
  }
  return new SmpDeviceError('mgmt', err.group, err.rc, undefined, NEEDS_APPLICATION, err.body);
}
