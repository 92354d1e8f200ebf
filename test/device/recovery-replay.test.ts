/**
 * Replays every request recorded from a real MCUboot in serial recovery (test/fixtures/mcuboot, sections A and C)
 * against the virtual device's recovery personality, byte for byte: the bytes written to the serial line go in,
 * the bytes the device writes back must equal what the real one wrote. Cases run in the recorded order on one
 * device, as they did on the real one (the image cases depend on the ones before them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeCborMap, encodeCbor } from '../../src/protocol/cbor.js';
import { decodePacket, encodePacket } from '../../src/protocol/header.js';
import { encodeSerialFrames } from '../../src/transport/serial-framing.js';
import { VirtualDevice } from '../../src/device/device.js';
import { serveSerialLine, type SerialLine } from '../../src/device/recovery/serial-port.js';
import { FIXTURES, goRuns } from '../helpers/vectors.js';
import { tempDir } from './helpers.js';

interface RecordedExchange {
  request_packet_hex: string;
  serial_sent_hex: string;
  serial_received_lines?: { hex: string }[];
  serial_received_hex?: string;
  no_response?: boolean;
  waited_seconds?: number;
  request_note?: string;
  pty_bytes_after_response_hex?: string;
}

interface RecordedCase {
  name: string;
  exchanges: RecordedExchange[];
}

const DIR = join(FIXTURES, 'mcuboot');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { cases: { file: string; section: string }[] };
const load = (file: string): RecordedCase => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as RecordedCase;
const section = (prefix: string): RecordedCase[] => index.cases.filter((c) => c.file.startsWith(prefix)).map((c) => load(c.file));

/** The recorded board: one image, two 512 KiB slots, swap using move (section A of the README). */
function recordedMcuboot(): VirtualDevice {
  const device = VirtualDevice.createSync({
    stateDir: tempDir('mcuboot-replay-'),
    // The recording gives bytes, not timing: no erase time (the raw case runs on fake timers).
    config: {
      slotSize: 0x80000,
      mcubootMode: 3,
      resetDelayMs: 250,
      bootTimeMs: 20,
      info: { release: 'v4.1.0', version: '4.1.0' },
      recovery: { sectorEraseMs: 0 },
    },
  });
  device.flash.erase(0); // fresh erased flash: MCUboot finds no application and stays in recovery
  device.enterRecovery();
  return device;
}

/** An in-memory serial line: what the device writes is collected. */
function memoryLine(): SerialLine & { received: number[]; feed(bytes: Uint8Array): void; written: () => Promise<void> } {
  let onData: (bytes: Uint8Array) => void = () => undefined;
  const received: number[] = [];
  let waiter: (() => void) | undefined;
  return {
    received,
    write: async (bytes) => {
      received.push(...bytes);
      waiter?.();
    },
    onData: (cb) => (onData = cb),
    onClose: () => undefined,
    close: () => undefined,
    feed: (bytes) => onData(bytes),
    written: () => new Promise<void>((resolve) => (waiter = resolve)),
  };
}

/** The uploaded image, put together from the recorded chunks of the full upload. */
function recordedImage(): Uint8Array {
  const image = new Uint8Array(58210);
  for (const e of load('rec_img_upload_full_v1.json').exchanges) {
    const req = decodeCborMap(decodePacket(bytes(e.request_packet_hex)).payload);
    image.set(req.data as Uint8Array, req.off as number);
  }
  return image;
}

/**
 * The recording skips one chunk (README: "300 → 300, then 306 → +304"): the 306 bytes at offset 300 that bring
 * the upload to the 604 the next case starts at.
 */
function missingChunk(): Uint8Array {
  const packet = encodePacket({ op: 2, version: 0, flags: 0, group: 1, seq: 0, id: 1 }, encodeCbor({ off: 300, data: recordedImage().subarray(300, 606) }));
  return encodeSerialFrames(packet);
}

const bytes = (hexText: string): Uint8Array => new Uint8Array(Buffer.from(hexText, 'hex'));

function expectedHex(e: RecordedExchange): string {
  if (e.serial_received_hex !== undefined) return e.serial_received_hex;
  return (e.serial_received_lines ?? []).map((l) => l.hex).join('');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MCUboot serial recovery, console framing (recorded section A)', () => {
  it('answers every recorded request with the recorded bytes, then boots the uploaded application', async () => {
    const device = recordedMcuboot();
    const line = memoryLine();
    const port = serveSerialLine(device, line, { raw: false });
    const cases = section('rec_');
    expect(cases.length).toBe(58);
    let compared = 0;
    for (const c of cases) {
      if (c.name === 'rec_img_upload_unaligned_349_v1') {
        line.feed(missingChunk());
        await port.handled();
      }
      for (const [i, e] of c.exchanges.entries()) {
        line.received.length = 0;
        const want = expectedHex(e);
        const arrived = device.recovery!.active || want === '' ? Promise.resolve() : untilReceived(line, want.length / 2);
        line.feed(bytes(e.serial_sent_hex));
        await port.handled();
        await arrived;
        expect(Buffer.from(line.received).toString('hex'), `${c.name} exchange ${i}`).toBe(want);
        compared++;
        if (c.name === 'rec_os_reset_v1') await new Promise<void>((resolve) => device.onReset(() => resolve()));
      }
    }
    expect(compared).toBeGreaterThan(200);
    // The reset left recovery: the uploaded image (rebuilt here from the recorded chunks) is the application.
    expect(device.recovery!.active).toBe(false);
    await device.close();
  });
});

/** Resolves once `count` bytes have arrived (the application answers asynchronously). */
async function untilReceived(line: ReturnType<typeof memoryLine>, count: number): Promise<void> {
  while (line.received.length < count) await line.written();
}

describe('MCUboot raw recovery protocol (recorded section C)', () => {
  it('answers every recorded request with the recorded bytes, including split, partial and bad packets', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const device = recordedMcuboot();
    const line = memoryLine();
    const port = serveSerialLine(device, line, { raw: true });
    let compared = 0;
    for (const c of section('raw_')) {
      for (const [i, e] of c.exchanges.entries()) {
        line.received.length = 0;
        const sent = bytes(e.serial_sent_hex);
        const pause = /sent as (\d+) bytes, ([\d.]+) s pause/.exec(e.request_note ?? '');
        if (pause) {
          line.feed(sent.subarray(0, Number(pause[1])));
          vi.advanceTimersByTime(Number(pause[2]) * 1000);
          line.feed(sent.subarray(Number(pause[1])));
        } else {
          line.feed(sent);
        }
        if (e.no_response) vi.advanceTimersByTime((e.waited_seconds ?? 0) * 1000);
        await port.handled();
        expect(Buffer.from(line.received).toString('hex'), `${c.name} exchange ${i}`).toBe(expectedHex(e));
        compared++;
      }
    }
    expect(compared).toBe(10);
    vi.useRealTimers();
    await device.close();
  });
});

describe('Zephyr 4.1 smp_svr under MCUboot (recorded section B), the requests that need no recorded slot-0 image', () => {
  // The slot-0 image of section B (v1.2.3+4) is known only by its hash, so the image cases cannot be replayed.
  const STATELESS = [
    'app_os_echo_hello_v1',
    'app_os_echo_hello_v2',
    'app_os_mcumgr_params_v1',
    'app_os_mcumgr_params_v2',
    'app_os_bootloader_info_v1',
    'app_os_bootloader_info_mode_v1',
    'app_err_unknown_group_v2',
  ];

  it('answers with the recorded bytes when configured as that build (buffers 384 × 4, swap using move)', async () => {
    const device = VirtualDevice.createSync({
      stateDir: tempDir('zephyr41-replay-'),
      config: { bufSize: 384, bufCount: 4, mcubootMode: 3, slotSize: 0x80000 },
    });
    const line = memoryLine();
    serveSerialLine(device, line, { raw: false });
    for (const name of STATELESS) {
      const e = load(`${name}.json`).exchanges[0]!;
      line.received.length = 0;
      const want = expectedHex(e);
      const arrived = untilReceived(line, want.length / 2);
      line.feed(bytes(e.serial_sent_hex));
      await arrived;
      expect(Buffer.from(line.received).toString('hex'), name).toBe(want);
    }
    await device.close();
  });
});

describe("the Go mcumgr tool's recorded requests against the recovery personality (up to the boundary: Go is not installed here)", () => {
  it('answers its echo, list and upload requests, framed as the Go tool frames them, in the shapes it parses', async () => {
    const device = recordedMcuboot();
    const line = memoryLine();
    const port = serveSerialLine(device, line, { raw: false });
    const runs = new Map(goRuns().map((r) => [r.name, r]));
    const answer = async (packetHex: string): Promise<Record<string, unknown>> => {
      line.received.length = 0;
      line.feed(encodeSerialFrames(bytes(packetHex)));
      await port.handled();
      const text = Buffer.from(line.received).toString('latin1').split('\n')[0]!;
      const decoded = Buffer.from(text.slice(2), 'base64');
      const reply = decodePacket(decoded.subarray(2, decoded.length - 2));
      return decodeCborMap(reply.payload);
    };
    expect(await answer(runs.get('echo')!.requests_sent[0]!.packet_hex)).toEqual({ r: 'hello' });
    expect(await answer(runs.get('image_list_before_upload')!.requests_sent[0]!.packet_hex)).toEqual({ images: [] });
    // Its first chunk has 297 bytes: MCUboot takes the 296 that fill whole 4-byte units, and refuses the Go tool's
    // next chunk (at 297) by naming 296, from where the Go tool resends.
    const upload = runs.get('image_upload')!.requests_sent;
    expect(await answer(upload[0]!.packet_hex)).toEqual({ rc: 0, off: 296 });
    expect(await answer(upload[1]!.packet_hex)).toEqual({ rc: 0, off: 296 });
    await device.close();
  });
});
