import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualDevice, type CreateDeviceOptions } from '../../src/device/device.js';

export function tempDir(prefix = 'mcumgr-sim-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeDevice(opts: Partial<CreateDeviceOptions> = {}): VirtualDevice {
  return VirtualDevice.createSync({ stateDir: opts.stateDir ?? tempDir(), config: { resetDelayMs: 20, ...opts.config }, seedImage: opts.seedImage });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
