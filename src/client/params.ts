/** Transfer sizing from the device's SMP buffer parameters and the transport (browser-safe). */
import { encodeCbor } from '../protocol/cbor.js';
import { SmpAbortError, SmpDeviceError } from '../protocol/errors.js';
import { SMP_HEADER_SIZE } from '../protocol/header.js';
import { os } from '../groups/os.js';
import type { SmpClient } from './client.js';

/** What a device without `os.mcumgrParams` is assumed to have: Zephyr's default CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE. */
export const DEFAULT_BUF_SIZE = 384;

export interface TransferLimits {
  /** Largest SMP request (header included) that fits the device's buffer and the transport. */
  maxPacket: number;
  /** The device's buffer count, when it reported it. */
  bufCount?: number;
}

/** Reads the device's buffer size and count (`os.mcumgrParams`); undefined when the device does not answer it. */
export async function readBufferParams(client: SmpClient, signal?: AbortSignal): Promise<{ bufSize: number; bufCount: number } | undefined> {
  try {
    const p = await client.call(os.mcumgrParams, {}, { signal, timeoutMs: 1000, tries: 3 });
    return p.buf_size > 0 ? { bufSize: p.buf_size, bufCount: Math.max(1, p.buf_count) } : undefined;
  } catch (err) {
    if (err instanceof SmpAbortError) throw err;
    return undefined; // not supported (rc 8) or no answer: fall back
  }
}

/**
 * Largest SMP packet we may send: the transport's MTU and the device's buffer less the transport's framing
 * overhead kept in it. Serial: Zephyr's mcumgr_serial.c decodes a frame's base64 into one SMP buffer, the
 * 2-byte length (pulled from the buffer's head) and the 2-byte CRC included, so a 1024-byte buffer takes a
 * 1020-byte packet, as the recorded Zephyr 3.4 device does.
 */
export function maxPacketFor(client: SmpClient, bufSize: number): number {
  const t = client.transport;
  return Math.max(64, Math.min(t.mtu, bufSize - t.framingOverhead));
}

export async function transferLimits(client: SmpClient, signal?: AbortSignal): Promise<TransferLimits> {
  const params = await readBufferParams(client, signal);
  return {
    maxPacket: maxPacketFor(client, params?.bufSize ?? DEFAULT_BUF_SIZE),
    ...(params ? { bufCount: params.bufCount } : {}),
  };
}

/**
 * Chunks in flight: at first the device's buffer count (never more than the user's limit), growing up to the
 * user's limit when it is larger (see window.ts). Stop-and-wait when the device does not report its buffers
 * and the user gives no limit. `withinBuffers`: never more than the buffers the device reports, whatever the limit
 * (a link where a dropped request costs a timeout).
 */
export function windowFor(limit: number | undefined, bufCount: number | undefined, withinBuffers = false): { start: number; max: number } {
  const cap = withinBuffers && bufCount !== undefined ? Math.min(limit ?? bufCount, bufCount) : limit;
  const max = Math.max(1, cap ?? bufCount ?? 1);
  return { start: Math.min(bufCount ?? max, max), max };
}

/**
 * Default cap of chunks in flight; the window grows up to it only while answers do not queue. `npm run bench`
 * (BENCHMARKS.md) shows where it stops: uploads use about 14 on a 20 ms UDP link, downloads up to 20.
 */
export const DEFAULT_MAX_WINDOW = 20;

/**
 * The window cap for a link: the user's limit; else DEFAULT_MAX_WINDOW, except on serial, where the device drops
 * what arrives while its buffers are full and the last such chunk costs a timeout: undefined, which windowFor turns
 * into the device's buffer count (on serial a user's limit is also kept within it: `windowWithinBuffers`).
 */
export function defaultWindowCap(conntype: string, userMax: number | undefined): number | undefined {
  return userMax ?? (conntype === 'serial' ? undefined : DEFAULT_MAX_WINDOW);
}

/** MGMT_ERR_EMSGSIZE: the device refused a request because the answer would not fit its buffer. */
export function isMessageTooLarge(err: unknown): boolean {
  return err instanceof SmpDeviceError && err.kind === 'mgmt' && err.rc === 7;
}

function bstrHeaderSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Largest data length such that `SMP header + encode({...fields, data})` fits in `limit` bytes. */
export function fitChunk(fields: Record<string, unknown>, limit: number, remaining: number): number {
  const emptyLen = SMP_HEADER_SIZE + encodeCbor({ ...fields, data: new Uint8Array(0) }).length; // includes 1-byte bstr header
  let n = Math.min(remaining, Math.max(0, limit - emptyLen));
  while (n > 0 && emptyLen - 1 + bstrHeaderSize(n) + n > limit) n--;
  return n;
}
