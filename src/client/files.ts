/** File transfers over SMP (fs group, command 0), browser-safe. */
import { SmpDeviceError, SmpError, SmpTimeoutError } from '../protocol/errors.js';
import { fs } from '../groups/fs.js';
import type { SmpClient } from './client.js';
import { fitChunk, maxPacketSize, type TransferProgress } from './upload.js';

export interface FileTransferOptions {
  /** Data bytes per upload chunk; default: computed from the device's buffer size and the transport MTU. */
  chunkSize?: number;
  timeoutMs?: number;
  /** Resends of a timed-out chunk before giving up. Default 3. */
  retries?: number;
  onProgress?: (p: TransferProgress) => void;
  /** Called with the `off` of every response (the Go tool prints them). */
  onResponse?: (off: number) => void;
  signal?: AbortSignal;
}

/** Writes `bytes` to the device file `name`. An empty file is created with one empty chunk. */
export async function fileUpload(
  client: SmpClient,
  name: string,
  bytes: Uint8Array,
  options: FileTransferOptions = {},
): Promise<{ bytes: number; chunkSize: number }> {
  const total = bytes.length;
  const limit = options.chunkSize ? Number.POSITIVE_INFINITY : await maxPacketSize(client, options.signal);
  const chunkSize = options.chunkSize ?? fitChunk({ name, off: total, len: total }, limit, total);
  if (chunkSize <= 0 && total > 0) throw new SmpError('Cannot create file upload request; MTU too low');
  let off = 0;
  let timeouts = 0;
  options.onProgress?.({ done: 0, total });
  do {
    const n = Math.min(chunkSize, total - off);
    const req = { name, off, data: bytes.subarray(off, off + n), ...(off === 0 ? { len: total } : {}) };
    let rsp: { off: number };
    try {
      rsp = await client.call(fs.upload, req, { signal: options.signal, timeoutMs: options.timeoutMs, tries: 1 });
    } catch (err) {
      if (err instanceof SmpTimeoutError && timeouts < (options.retries ?? 3)) {
        timeouts++;
        continue;
      }
      // A chunk the device already wrote (its answer was lost): it says where it is (`len`), continue there.
      const expected = err instanceof SmpDeviceError && err.group === 8 && err.rc === 11 ? err.body?.len : undefined;
      if (typeof expected === 'number' && expected <= total && timeouts < (options.retries ?? 3)) {
        timeouts++;
        off = expected;
        continue;
      }
      throw err;
    }
    timeouts = 0;
    options.onResponse?.(rsp.off);
    if (rsp.off <= off && n > 0) throw new SmpError(`the device did not advance (offset ${rsp.off} after writing at ${off})`);
    off = rsp.off;
    options.onProgress?.({ done: Math.min(off, total), total });
  } while (off < total);
  return { bytes: total, chunkSize };
}

/** Reads the device file `name` completely. */
export async function fileDownload(
  client: SmpClient,
  name: string,
  options: FileTransferOptions = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let off = 0;
  let total: number | undefined;
  let timeouts = 0;
  for (;;) {
    let rsp: { off: number; data: Uint8Array; len?: number };
    try {
      rsp = await client.call(fs.download, { name, off }, { signal: options.signal, timeoutMs: options.timeoutMs, tries: 1 });
    } catch (err) {
      if (err instanceof SmpTimeoutError && timeouts < (options.retries ?? 3)) {
        timeouts++;
        continue;
      }
      throw err;
    }
    timeouts = 0;
    options.onResponse?.(rsp.off);
    if (rsp.len !== undefined && total === undefined) total = rsp.len;
    if (rsp.off !== off) throw new SmpError(`the device answered offset ${rsp.off} to a read at ${off}`);
    parts.push(rsp.data);
    off += rsp.data.length;
    options.onProgress?.({ done: off, total: total ?? off });
    if (rsp.data.length === 0 || (total !== undefined && off >= total)) break;
  }
  const out = new Uint8Array(off);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
