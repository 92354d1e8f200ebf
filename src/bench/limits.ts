/**
 * Theoretical payload limits of a transfer over a benchmark profile:
 * - round trip: the link's latency, paid once by any transfer;
 * - link: the wire's bandwidth after framing (serial base64/CRC, UDP/IP headers), or for BLE the air time of
 *   the requests and their responses on the shared channel in connection events;
 * - buffers: with `buf_count` requests in flight at most, `buf_count × chunk / RTT` where RTT is the
 *   round trip of one full chunk alone (measured by the stop-and-wait run with full chunks, so it includes
 *   the device's flash time and the emulation's timer granularity).
 */
import { BLE_T_IFS_MS, BleAir } from '../device/link/ble-link.js';
import type { FlashModel } from '../device/link/device-endpoint.js';
import { deviceBuffers, type BenchProfile } from './setup.js';

export interface Limit {
  bytesPerSecond: number;
  formula: string;
}

const kib = (bps: number): string => `${(bps / 1024).toFixed(1)} KiB/s`;

/**
 * Payload bytes per second the link carries when it is never idle: `data` bytes in a `request`, answered by
 * `response`. On BLE: the air time of the LL exchanges of the request's ATT writes and the response's
 * notifications, in the part of each connection interval a connection event may use.
 */
export function linkRate(p: BenchProfile, data: number, request: number, response: number): { rate: number; formula: string } {
  if (p.kind === 'wire') {
    const l = p.link;
    const wire = l.wireBytes(request);
    const rate = (l.bytesPerSecond * data) / wire;
    return { rate, formula: `link ${l.bytesPerSecond} B/s × ${data}/${wire} = ${kib(rate)}` };
  }
  const air = new BleAir(p.link);
  const value = p.link.attMtu - 3;
  const attPdus = (bytes: number): number => {
    let ms = 0;
    for (let off = 0; off < bytes; off += value) ms += air.attMs(Math.min(value, bytes - off));
    return ms;
  };
  const ci = p.link.connIntervalMs;
  const usable = (ci - BLE_T_IFS_MS) / ci;
  const perChunk = (attPdus(request) + attPdus(response)) / usable;
  const rate = data / (perChunk / 1000);
  return {
    rate,
    formula: `air ${data} B / ${perChunk.toFixed(2)} ms per request+response (LL exchanges in ${ci - BLE_T_IFS_MS} ms of each ${ci} ms interval) = ${kib(rate)}`,
  };
}

/**
 * The shortest round trip of the link, with nothing queued: the wire's latency both ways, or on BLE one connection
 * interval (an answer leaves in a later connection event than its request).
 */
export function baseRoundTripMs(p: BenchProfile): number {
  return p.kind === 'wire' ? 2 * p.link.latencyMs : p.link.connIntervalMs;
}

/**
 * The limit of one transfer: no transfer ends sooner than its round trips plus the time its bytes take at the
 * bottleneck, the lower of the link's rate and the flash's programming rate, plus the erase of the image area at
 * upload start. An upload pays one round trip (the first request's way out, the last answer's way back); a
 * download two, since the device chooses how much a read returns: the client learns the chunk size from a first
 * answer before it can ask for the rest. The device's buffers are shown for
 * reference: with no more than `buf_count` requests in flight a client cannot pass `buf_count × chunk / RTT`, but a
 * buffer is busy only while the device handles its request, so a client may keep more requests in flight (see
 * BENCHMARKS.md).
 */
export function transferLimit(
  p: BenchProfile,
  size: number,
  chunk: { data: number; request: number; response: number },
  rttMs: number,
  how: { roundTrips: number; flash?: FlashModel },
): Limit {
  const flash = how.flash;
  const link = linkRate(p, chunk.data, chunk.request, chunk.response);
  const { bufCount } = deviceBuffers(p);
  const buffers = (bufCount * chunk.data) / (rttMs / 1000);
  const write = flash?.writeBytesPerSecond ?? Number.POSITIVE_INFINITY;
  const roundTripS = (how.roundTrips * baseRoundTripMs(p)) / 1000;
  const eraseS = flash?.erase === 'at-start' ? (Math.ceil(size / flash.sectorSize) * flash.sectorEraseMs) / 1000 : 0;
  const progressive = flash?.erase === 'progressive' ? flash.sectorEraseMs / 1000 / flash.sectorSize : 0;
  const steady = Math.min(link.rate, 1 / (1 / write + progressive));
  const bytesPerSecond = size / (roundTripS + eraseS + size / steady);
  const flashText = flash
    ? `, flash ${flash.writeBytesPerSecond / 1000} kB/s${progressive ? ` + ${flash.sectorEraseMs} ms per ${flash.sectorSize / 1024} KiB sector` : ''}`
    : '';
  const ms = (s: number): string => `${Number((s * 1000).toFixed(1))} ms`;
  return {
    bytesPerSecond,
    formula:
      `${size / 1024} KiB / (${how.roundTrips > 1 ? `${how.roundTrips} ` : ''}round trip${how.roundTrips > 1 ? 's' : ''} ${ms(roundTripS)} + ${eraseS ? `erase ${ms(eraseS)} + ` : ''}${size / 1024} KiB / ` +
      `min(${link.formula}${flashText}))` +
      `  [window = buf_count would allow ${bufCount} × ${chunk.data} B / RTT ${rttMs.toFixed(1)} ms = ${kib(buffers)}]`,
  };
}
