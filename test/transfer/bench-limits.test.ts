/** The benchmark's theoretical limits: what they count, and that no schedule of the emulated link beats them. */
import { describe, expect, it } from 'vitest';
import { linkRate, transferLimit } from '../../src/bench/limits.js';
import type { BenchProfile } from '../../src/bench/setup.js';
import { BLE_LINK_PROFILES, BleAir } from '../../src/device/link/ble-link.js';
import { LINK_PROFILES } from '../../src/device/link/link.js';
import type { FlashModel } from '../../src/device/link/device-endpoint.js';

const SIZE = 256 * 1024;
const udp: BenchProfile = { kind: 'wire', link: LINK_PROFILES['udp-20ms']! };
const flash: FlashModel = { writeBytesPerSecond: 1_000_000, sectorSize: 4096, sectorEraseMs: 10, erase: 'at-start' };

describe('transferLimit', () => {
  it('an upload pays one round trip, the erase of the image area, and its bytes at the lower of link and flash rate', () => {
    const limit = transferLimit(udp, SIZE, { data: 2015, request: 2048, response: 20 }, 30, { roundTrips: 1, flash });
    // 1.25 MB/s × 2015/2132 of the link is more than the flash's 1 MB/s: the flash sets the pace.
    expect(limit.bytesPerSecond).toBeCloseTo(SIZE / (0.02 + 0.64 + SIZE / 1_000_000), 3);
    expect(limit.formula).toContain('round trip 20 ms + erase 640 ms');
  });

  it('a download pays two round trips (the first answer tells the chunk size the device chose) and the link rate', () => {
    const limit = transferLimit(udp, SIZE, { data: 2004, request: 2048, response: 40 }, 30, { roundTrips: 2 });
    const rate = (1_250_000 * 2004) / LINK_PROFILES['udp-20ms']!.wireBytes(2048);
    expect(limit.bytesPerSecond).toBeCloseTo(SIZE / (0.04 + SIZE / rate), 3);
    expect(limit.formula).toContain('2 round trips 40 ms');
  });
});

describe('linkRate on BLE', () => {
  it.each(Object.values(BLE_LINK_PROFILES))('is an upper bound: the air carries no schedule of the traffic faster ($name)', (profile) => {
    const p: BenchProfile = { kind: 'ble', link: profile };
    const request = 2480;
    const response = 20;
    const bound = linkRate(p, 2442, request, response).rate;
    const value = profile.attMtu - 3;
    const writes = (air: BleAir, at: number, bytes: number): number => {
      let t = at;
      for (let off = 0; off < bytes; off += value) t = air.schedule(at, Math.min(value, bytes - off));
      return t;
    };
    // Requests back to back with each response handed over at different points of the next request.
    for (const lag of [0, 1, 2, 3]) {
      const air = new BleAir(profile);
      let end = 0;
      for (let i = 0; i < 40; i++) {
        end = writes(air, 0, request);
        if (i >= lag) end = writes(air, 0, response);
      }
      for (let i = 0; i < lag; i++) end = writes(air, 0, response);
      expect((40 * 2442) / (end / 1000)).toBeLessThanOrEqual(bound);
    }
  });
});
