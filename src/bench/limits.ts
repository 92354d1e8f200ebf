/**
 * Theoretical payload limits of a transfer over a benchmark profile:
 * - link: the wire's bandwidth after framing (serial base64/CRC, UDP/IP headers), or for BLE the air time of
 *   the requests and their responses on the shared channel in connection events;
 * - buffers: with `buf_count` requests in flight at most, `buf_count × chunk / RTT` where RTT is the
 *   round trip of one full chunk alone (measured by the stop-and-wait run with full chunks, so it includes
 *   the device's flash time and the emulation's timer granularity).
 */
import { BleAir } from '../transport/ble-link.js';
import type { FlashModel } from '../transport/link.js';
import { deviceBuffers, type BenchProfile } from './setup.js';

export interface Limit {
  bytesPerSecond: number;
  formula: string;
}

const kib = (bps: number): string => `${(bps / 1024).toFixed(1)} KiB/s`;

/** Payload bytes per second the link carries when it is never idle: `data` bytes in a `request`, answered by `response`. */
export function linkRate(p: BenchProfile, data: number, request: number, response: number): { rate: number; formula: string } {
  if (p.kind === 'wire') {
    const l = p.link;
    const wire = l.wireBytes(request);
    const rate = (l.bytesPerSecond * data) / wire;
    return { rate, formula: `link ${l.bytesPerSecond} B/s × ${data}/${wire} = ${kib(rate)}` };
  }
  const air = new BleAir(p.link);
  const write = p.link.attMtu - 3;
  const chunks = 64;
  let t = 0;
  for (let i = 0; i < chunks; i++) {
    for (let off = 0; off < request; off += write) t = air.schedule(0, Math.min(write, request - off));
    for (let off = 0; off < response; off += write) t = air.schedule(0, Math.min(write, response - off));
  }
  const rate = (chunks * data) / (t / 1000);
  const perChunk = t / chunks;
  return { rate, formula: `air ${data} B / ${perChunk.toFixed(2)} ms per request+response = ${kib(rate)}` };
}

/**
 * The limit of one transfer: the lower of the link's rate and the flash's programming rate, plus a fixed time
 * for the erase of the image area at upload start. The device's buffers are shown for reference: with no more
 * than `buf_count` requests in flight a client cannot pass `buf_count × chunk / RTT`, but a buffer is busy only
 * while the device handles its request, so a client may keep more requests in flight (see BENCHMARKS.md).
 */
export function transferLimit(
  p: BenchProfile,
  size: number,
  chunk: { data: number; request: number; response: number },
  rttMs: number,
  flash?: FlashModel,
): Limit {
  const link = linkRate(p, chunk.data, chunk.request, chunk.response);
  const { bufCount } = deviceBuffers(p);
  const buffers = (bufCount * chunk.data) / (rttMs / 1000);
  const write = flash?.writeBytesPerSecond ?? Number.POSITIVE_INFINITY;
  const eraseS = flash?.erase === 'at-start' ? (Math.ceil(size / flash.sectorSize) * flash.sectorEraseMs) / 1000 : 0;
  const progressive = flash?.erase === 'progressive' ? flash.sectorEraseMs / 1000 / flash.sectorSize : 0;
  const steady = Math.min(link.rate, 1 / (1 / write + progressive));
  const bytesPerSecond = size / (eraseS + size / steady);
  const flashText = flash
    ? `, flash ${flash.writeBytesPerSecond / 1000} kB/s` + (progressive ? ` + ${flash.sectorEraseMs} ms per ${flash.sectorSize / 1024} KiB sector` : '')
    : '';
  return {
    bytesPerSecond,
    formula:
      `${eraseS ? `${size / 1024} KiB / (erase ${(eraseS * 1000).toFixed(0)} ms + ${size / 1024} KiB / ` : ''}min(${link.formula}${flashText})${eraseS ? ')' : ''}` +
      `  [window = buf_count would allow ${bufCount} × ${chunk.data} B / RTT ${rttMs.toFixed(1)} ms = ${kib(buffers)}]`,
  };
}
