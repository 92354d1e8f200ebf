import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serialMaxRequest, zephyr34SmpSvrConfig } from '../../src/device/config.js';
import { readSlotImage } from '../../src/device/slot-image.js';
import { decodeCbor, decodeCborMap, encodeCbor } from '../../src/protocol/cbor.js';
import { encodePacket } from '../../src/protocol/header.js';
import { encodeSerialFrames, SerialFrameDecoder } from '../../src/transport/serial-framing.js';
import { hex, makeDevice, unhex } from './helpers.js';

const DIR = join(import.meta.dirname, '../fixtures/zephyr-3.4-smp');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as {
  notes: { slot0_image: { image_hash_tlv: string }; fresh_flash_before: string };
  cases: { file: string; description: string; first_response_diag: string | null }[];
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

const packet = (version: number, op: number, group: number, id: number, payload: Uint8Array) =>
  encodePacket({ op, version, flags: 0, group, seq: 1, id }, payload);
const v1 = (op: number, group: number, id: number, body: unknown) => packet(0, op, group, id, encodeCbor(body));
const v2 = (op: number, group: number, id: number, body: unknown) => packet(1, op, group, id, encodeCbor(body));

/** Serial lines as the device's shell transport reads them; split (before framing) at `at` base64 characters. */
function framedSplit(pkt: Uint8Array, at: number): Uint8Array[] {
  const text = Buffer.from(encodeSerialFrames(pkt, 1000)).subarray(2, -1).toString('latin1');
  return [`\x06\x09${text.slice(0, at)}\n`, `\x04\x14${text.slice(at)}\n`].map((l) => new Uint8Array(Buffer.from(l, 'latin1')));
}

/**
 * The request of each case the index lists without a file, rebuilt from its description. The expected answer is
 * the index's `first_response_diag`, not written here. `lines` are serial input for the device's frame decoder.
 */
const REBUILT: Record<string, { request?: Uint8Array; lines?: Uint8Array[] }> = {
  os_echo_oversize_1007_v1: { lines: [encodeSerialFrames(v1(2, 0, 0, { d: 'x'.repeat(1007) }))] },
  os_echo_d_wrong_type_v2: { request: v2(2, 0, 0, { d: 5 }) },
  os_info_format_invalid_v2: { request: v2(0, 0, 7, { format: 'x' }) },
  err_payload_not_a_map_echo_v2: { request: packet(1, 2, 0, 0, encodeCbor('not a map')) },
  err_version_bits_3_v1: { request: packet(3, 2, 0, 0, encodeCbor({ d: 'v3' })) },
  err_op_4_v1: { request: packet(0, 4, 0, 0, encodeCbor({ d: 'op4' })) },
  err_length_zero_with_payload_v1: {
    request: (() => {
      const p = v1(2, 0, 0, { d: 'len' });
      p[2] = 0;
      p[3] = 0;
      return p;
    })(),
  },
  two_packets_one_frame: { lines: [encodeSerialFrames(Buffer.concat([v1(2, 0, 0, { d: 'one' }), v1(2, 0, 0, { d: 'two' })]))] },
  frame_split_not_multiple_of_4: { lines: framedSplit(v1(2, 0, 0, { d: 'split10' }), 10) },
  img_state_write_test_short_hash_v2: { request: v2(2, 1, 0, { hash: new Uint8Array(4) }) },
  img_state_write_hash_wrong_type_v2: { request: v2(2, 1, 0, { hash: 'abcd' }) },
  stat_read_no_name_v2: { request: v2(0, 2, 0, {}) },
  shell_empty_argv_v2: { request: v2(2, 9, 0, { argv: [] }) },
};

/** `{_ "rc": 3}` (CBOR diagnostic notation, indefinite maps) as a JSON value. */
const diagJson = (diag: string): unknown => JSON.parse(diag.replaceAll('{_ ', '{').replaceAll('[_ ', '['));

describe('replay of the Zephyr 3.4 smp_svr recordings', () => {
  it('every case in the index is on disk or rebuilt from its index entry, and answered as the index says', () => {
    const missing = index.cases.filter((c) => !existsSync(join(DIR, c.file))).map((c) => c.file.replace(/\.json$/, ''));
    // A file missing from disk fails here unless its request is rebuilt above: it is never skipped.
    expect(missing.filter((name) => !REBUILT[name])).toEqual([]);
    const device = makeDevice({ config: zephyr34SmpSvrConfig() });
    const answers: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const name of missing) {
      const c = index.cases.find((x) => x.file === `${name}.json`)!;
      const { request, lines } = REBUILT[name]!;
      // The device's serial transport, as mcumgr-sim runs it.
      const decoder = new SerialFrameDecoder({ maxPacket: serialMaxRequest(device.config), framesDecodedAlone: true });
      const requests = request ? [request] : lines!.flatMap((l) => decoder.push(l));
      const responses = requests.flatMap((r) => device.server.handlePacket(r));
      answers[name] = responses.length ? decodeCbor(responses[0]!.subarray(8)) : null;
      expected[name] = c.first_response_diag === null ? null : diagJson(c.first_response_diag);
    }
    void device.close();
    expect(answers).toEqual(expected);
  });

  it('answers every recorded request like the device did', async () => {
    const device = makeDevice({ config: zephyr34SmpSvrConfig() });
    const ourHash = hex(readSlotImage(device.flash.read(0))!.hash);
    const theirHash = index.notes.slot0_image.image_hash_tlv;
    let compared = 0;
    const failures: string[] = [];
    for (const c of index.cases) {
      const name = c.file.replace(/\.json$/, '');
      // The index lists a few cases whose file was never written: the test below rebuilds each one.
      if (!existsSync(join(DIR, c.file)) && REBUILT[name]) continue;
      const data = JSON.parse(readFileSync(join(DIR, c.file), 'utf8')) as { exchanges: Exchange[] };
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
