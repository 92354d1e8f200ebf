/** File transfers over SMP (fs group, command 0), browser-safe; both directions go through the shared window. */
import { SmpDeviceError, SmpError, SmpTimeoutError } from '../protocol/errors.js';
import { fs } from '../groups/fs.js';
import type { SmpClient } from './client.js';
import { fitChunk, transferLimits, windowFor } from './params.js';
import { sha256, type TransferProgress } from './upload.js';
import { runWindow } from './window.js';
import { crc32 } from '../protocol/crc32.js';

export interface FileTransferOptions {
  /** Data bytes per upload chunk; default: computed from the device's buffer size and the transport MTU. */
  chunkSize?: number;
  /** Chunks in flight at most (default: the device's buffer count; 1 when it does not report it). */
  window?: number;
  /** Never more chunks in flight than the buffers the device reports, whatever `window` says (serial links). */
  windowWithinBuffers?: boolean;
  timeoutMs?: number;
  /** Unanswered rounds in a row before giving up. Default 3. */
  retries?: number;
  onProgress?: (p: TransferProgress) => void;
  /** Sending went back to this offset (see WindowOptions.onRetry). */
  onRetry?: (off: number, reason: 'timeout' | 'missing') => void;
  /** Called with the `off` of every response (the Go tool prints them). */
  onResponse?: (off: number) => void;
  signal?: AbortSignal;
}

export interface FileUploadOptions extends FileTransferOptions {
  /**
   * Continue an upload the device has up to this offset (after a lost link) instead of starting the file over; a
   * device that has another length answers with it (FILE_OFFSET_NOT_VALID), and the upload goes on from there.
   */
  resumeFrom?: number;
}

/** What a download has received: pass the same object again to continue a download that failed. */
export interface DownloadProgress {
  /** The file's length, once the first read has answered. */
  total?: number;
  /** The device's data per read. */
  chunk?: number;
  /** The data received without a gap from the start. */
  prefix: Uint8Array;
}

export interface FileDownloadOptions extends FileTransferOptions {
  /** Filled as the download goes; given with a `total`, the download continues after its prefix. */
  progress?: DownloadProgress;
}

/** fs group error FILE_OFFSET_NOT_VALID: the device names the offset it expects in `len`. */
function expectedOffset(err: unknown): number | undefined {
  const len = err instanceof SmpDeviceError && err.group === 8 && err.rc === 11 ? err.body?.len : undefined;
  return typeof len === 'number' ? len : undefined;
}

type FileUploadResult = { bytes: number; chunkSize: number; window: number };

/**
 * Writes `bytes` to the device file `name`. An empty file is created with one empty chunk.
 * Zephyr (3.4) appends a first chunk that is sent again while the file is still open, so after a re-sent
 * first chunk the device's hash of the file is checked, and the file written once more if it is wrong.
 */
export async function fileUpload(client: SmpClient, name: string, bytes: Uint8Array, options: FileUploadOptions = {}): Promise<FileUploadResult> {
  const first = await writeFile(client, name, bytes, options);
  if (!first.firstChunkResent || (await deviceFileMatches(client, name, bytes, options.signal))) return first.result;
  const mismatch = `the file ${name} on the device does not match what was sent (the device appended a first chunk that was sent again)`;
  try {
    await client.call(fs.close, {}, { signal: options.signal });
  } catch (err) {
    if (err instanceof SmpDeviceError)
      throw new SmpError(`${mismatch}; the device cannot close the file (fs close): upload it again once the device has closed it`);
    throw err;
  }
  const again = await writeFile(client, name, bytes, { ...options, resumeFrom: 0 });
  if (!(await deviceFileMatches(client, name, bytes, options.signal))) throw new SmpError(`${mismatch}; upload it again`);
  return again.result;
}

/** True when the device's SHA-256 (or CRC32) of `name` is that of `bytes`, or when the device computes neither. */
export async function deviceFileMatches(client: SmpClient, name: string, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<boolean> {
  for (const type of ['sha256', 'crc32'] as const) {
    let rsp;
    try {
      rsp = await client.call(fs.hash, { name, type }, { signal });
    } catch (err) {
      if (err instanceof SmpDeviceError) continue;
      throw err;
    }
    if (rsp.len !== bytes.length) return false;
    if (type === 'crc32') return rsp.output === crc32(bytes);
    const want = await sha256(bytes);
    return rsp.output instanceof Uint8Array && rsp.output.length === want.length && rsp.output.every((b, i) => b === want[i]);
  }
  return true;
}

async function writeFile(
  client: SmpClient,
  name: string,
  bytes: Uint8Array,
  options: FileUploadOptions,
): Promise<{ result: FileUploadResult; firstChunkResent: boolean }> {
  const total = bytes.length;
  let firstChunkSends = 0;
  const negotiated = options.chunkSize ? undefined : await transferLimits(client, options.signal);
  const limit = negotiated?.maxPacket ?? Number.POSITIVE_INFINITY;
  const chunkSize = options.chunkSize ?? fitChunk({ name, off: total, len: total }, limit, total);
  if (chunkSize <= 0 && total > 0) throw new SmpError('Cannot create file upload request; MTU too low');
  const window = windowFor(options.window, negotiated?.bufCount, options.windowWithinBuffers);
  const start = Math.min(options.resumeFrom ?? 0, total);
  options.onProgress?.({ done: start, total });
  const run = await runWindow({
    // An empty file still takes one (empty) first chunk.
    total: Math.max(total, 1),
    start,
    window: window.start,
    maxWindow: window.max,
    retries: options.retries ?? 3,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    send: (off, timeoutMs, signal) => {
      if (off === 0) firstChunkSends++;
      const n = Math.min(chunkSize, total - off);
      const req = { name, off, data: bytes.subarray(off, off + n), ...(off === 0 ? { len: total } : {}) };
      const reply = client.call(fs.upload, req, { signal, timeoutMs, tries: 1 }).then(
        (rsp) => {
          options.onResponse?.(rsp.off);
          return total === 0 ? 1 : rsp.off;
        },
        (err: unknown) => {
          // A chunk out of place (one before it was lost, or its answer was): the device says where it is.
          const expected = expectedOffset(err);
          if (expected !== undefined && expected <= total) return expected;
          throw err;
        },
      );
      return { end: Math.max(off + n, 1), reply };
    },
    onAck: (off) => options.onProgress?.({ done: Math.min(off, total), total }),
    onRetry: options.onRetry,
  });
  return { result: { bytes: total, chunkSize, window: Math.max(1, run.maxWindow) }, firstChunkResent: firstChunkSends > 1 };
}

/**
 * What the link holds, from the buffer query's short answer and the first read's full one, sent back to back: the
 * read's answer arrives one chunk's transmission time after the query's (a packet pair), so a round trip holds
 * `round trip / that time` chunks.
 */
function linkPace(sentAt: number, shortAnswerAt: number, fullAnswerAt: number): { roundTripMs: number; window: number } | undefined {
  const chunkMs = fullAnswerAt - shortAnswerAt;
  if (chunkMs <= 0) return undefined;
  const roundTripMs = fullAnswerAt - sentAt;
  return { roundTripMs, window: roundTripMs / chunkMs };
}

/** Zephyr's fs_mgmt lengths and offsets are 32-bit. */
const MAX_FILE_LENGTH = 0xffff_ffff;
const INITIAL_BUFFER = 64 * 1024;

/** Reads the device file `name` completely (continuing after `options.progress.prefix` when it has a `total`). */
export async function fileDownload(client: SmpClient, name: string, options: FileDownloadOptions = {}): Promise<Uint8Array> {
  const state = options.progress ?? { prefix: new Uint8Array(0) };
  // The buffer query goes out with the first read: both answers come back in one round trip.
  const limits = options.window === 1 ? undefined : transferLimits(client, options.signal);
  // When its answer came (for the packet pair below); awaited later, so a failed first read leaves nothing unhandled.
  let limitsAt: number | undefined;
  void limits?.then(
    () => (limitsAt = performance.now()),
    () => undefined,
  );
  const request = (off: number, timeoutMs: number | undefined, signal: AbortSignal | undefined) =>
    client.call(fs.download, { name, off }, { signal, timeoutMs, tries: 1 }).then((rsp) => {
      if (rsp.off !== off) throw new SmpError(`the device answered offset ${rsp.off} to a read at ${off}`);
      options.onResponse?.(rsp.off);
      return rsp;
    });

  // The first answer gives the file's length and the device's chunk size; the rest is read through the window.
  let firstRead: { sentAt: number; answeredAt: number } | undefined;
  let { total, chunk } = state;
  if (total === undefined || chunk === undefined) {
    let first: Awaited<ReturnType<typeof request>> | undefined;
    for (let tries = 0; !first; tries++) {
      const sentAt = performance.now();
      first = await request(0, options.timeoutMs, options.signal).catch((err: unknown) => {
        if (tries >= (options.retries ?? 3) || !(err instanceof SmpTimeoutError)) throw err;
        return undefined;
      });
      if (first && tries === 0) firstRead = { sentAt, answeredAt: performance.now() };
    }
    total = first.len ?? first.data.length;
    if (total > MAX_FILE_LENGTH) throw new SmpError(`the device declares a file of ${total} bytes, more than a device file can hold (${MAX_FILE_LENGTH})`);
    if (total > 0 && first.data.length === 0) throw new SmpError('the device sent no data for a non-empty file');
    if (first.data.length > total) throw new SmpError(`the device sent data past the file's length (${total})`);
    chunk = Math.max(1, first.data.length);
    Object.assign(state, { total, chunk, prefix: first.data });
  }
  // Grown with the data received, never allocated at the length the device declares.
  let out = new Uint8Array(Math.min(total, Math.max(INITIAL_BUFFER, state.prefix.length)));
  const have = new Map<number, number>(); // offset → length of the pieces received
  /** End of the data received without a gap from `from`; from the start by default (kept, as it only grows). */
  let received = 0;
  const prefix = (from?: number): number => {
    let p = from ?? received;
    for (let n = have.get(p); n; n = have.get(p)) p += n;
    if (from === undefined) {
      received = p;
      state.prefix = out.subarray(0, p);
    }
    return p;
  };
  const store = (off: number, data: Uint8Array): void => {
    if (off + data.length > total) throw new SmpError(`the device sent data past the file's length (${total})`);
    if (off + data.length > out.length) {
      const grown = new Uint8Array(Math.min(total, Math.max(off + data.length, 2 * out.length)));
      grown.set(out);
      out = grown;
    }
    out.set(data, off);
    have.set(off, data.length);
  };
  store(0, state.prefix);
  options.onProgress?.({ done: prefix(), total });
  const window = windowFor(options.window, limits ? (await limits).bufCount : 1, options.windowWithinBuffers);
  const pace = firstRead && limitsAt !== undefined ? linkPace(firstRead.sentAt, limitsAt, firstRead.answeredAt) : undefined;

  await runWindow({
    total,
    start: prefix(),
    window: window.start,
    maxWindow: window.max,
    retries: options.retries ?? 3,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    pace,
    reorderTolerance: 2,
    backOff: 'on-queueing',
    skip: prefix,
    send: (off, timeoutMs, signal) => {
      const reply = request(off, timeoutMs, signal).then((rsp) => {
        if (rsp.data.length === 0) throw new SmpError(`the device sent no data at offset ${off} of ${total}`);
        store(off, rsp.data);
        return prefix();
      });
      return { end: Math.min(total, off + chunk), reply };
    },
    onAck: (off) => options.onProgress?.({ done: off, total }),
    onRetry: options.onRetry,
  });
  return out.subarray(0, total);
}
