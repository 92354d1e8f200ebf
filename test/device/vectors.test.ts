import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zephyr34SmpSvrConfig } from '../../src/device/config.js';
import { readSlotImage } from '../../src/device/slot-image.js';
import { decodeCborMap } from '../../src/protocol/cbor.js';
import { hex, makeDevice, unhex } from './helpers.js';

const DIR = join(import.meta.dirname, '../fixtures/zephyr-3.4-smp');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as {
  notes: { slot0_image: { image_hash_tlv: string }; fresh_flash_before: string };
  cases: { file: string }[];
};

interface Exchange {
  request_packet_hex?: string;
  response_packet_hex?: string | null;
}

/** Cases whose answer varies with time: compared by shape (keys and types) only. */
const TIME_VARYING = new Set(['stat_read_smp_svr_stats_v1', 'shell_kernel_uptime_v1']);

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v instanceof Uint8Array) return 'bytes';
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

describe('replay of the Zephyr 3.4 smp_svr recordings', () => {
  it('answers every recorded request like the device did', async () => {
    const device = makeDevice({ config: zephyr34SmpSvrConfig() });
    const ourHash = hex(readSlotImage(device.flash.read(0))!.hash);
    const theirHash = index.notes.slot0_image.image_hash_tlv;
    let compared = 0;
    const failures: string[] = [];
    for (const c of index.cases) {
      const name = c.file.replace(/\.json$/, '');
      let data: { exchanges: Exchange[] };
      try {
        data = JSON.parse(readFileSync(join(DIR, c.file), 'utf8'));
      } catch {
        continue;
      }
      if (/taken from/.test((data as { description?: string }).description ?? '') || name === 'err_bad_crc') continue;
      if (name === index.notes.fresh_flash_before) {
        device.flash.erase(1);
        device.flash.eraseTrailerSectors(0);
        device.setUpload(undefined);
      }
      for (const ex of data.exchanges) {
        if (!ex.request_packet_hex) continue;
        const rsps = device.server.handlePacket(unhex(ex.request_packet_hex.replaceAll(theirHash, ourHash)));
        compared++;
        const expected = ex.response_packet_hex ? ex.response_packet_hex.replaceAll(theirHash, ourHash) : null;
        if (expected === null) {
          if (rsps.length !== 0) failures.push(`${name}: expected no response, got ${hex(rsps[0]!)}`);
          continue;
        }
        const got = rsps.map(hex).join('');
        if (TIME_VARYING.has(name)) {
          const a = shape(decodeCborMap(unhex(got).subarray(8)));
          const b = shape(decodeCborMap(unhex(expected).subarray(8)));
          if (JSON.stringify(a) !== JSON.stringify(b) || got.slice(0, 4) !== expected.slice(0, 4)) failures.push(`${name}: shape ${got} != ${expected}`);
        } else if (got !== expected) {
          failures.push(`${name}:\n  got      ${got.slice(0, 300)}\n  expected ${expected.slice(0, 300)}`);
        }
      }
      if (name.startsWith('os_reset')) {
        // The recorded native_sim device restarted without a bootloader swap: only RAM state is lost.
        device.setUpload(undefined);
        device.fsTransfer = undefined;
      }
    }
    await device.close();
    expect(compared).toBeGreaterThan(150);
    expect(failures).toEqual([]);
  });
});
