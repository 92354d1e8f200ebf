/**
 * Image upload over SMP (image group, command 1), browser-safe (WebCrypto for SHA-256, no Node APIs).
 *
 * The first chunk carries `image`, `off: 0`, `len`, `sha` (SHA-256 of the whole file, which Zephyr uses to
 * recognise a resumed upload) and `upgrade` when asked; it goes alone, and its answer tells whether the device
 * resumes. Later chunks carry only `image`, `off` and `data` and go through the shared window (window.ts).
 */
import { SmpError, SmpTimeoutError } from '../protocol/errors.js';
import { image } from '../groups/image.js';
import type { SmpClient } from './client.js';
import { BOOTLOADER_CHUNK_ALIGN } from './bootloader.js';
import { DEFAULT_BUF_SIZE, fitChunk, isMessageTooLarge, maxPacketFor, transferLimits, windowFor } from './params.js';
import { runWindow } from './window.js';

export interface TransferProgress {
  /** Bytes the device has acknowledged. */
  done: number;
  total: number;
  /** Set when the device reported a partial upload of the same file and we continued from there. */
  resumedFrom?: number;
}

export interface ImageUploadOptions {
  /** Image number (default 0). */
  image?: number;
  /** Ask the device to refuse images that are not newer than the running one. */
  upgrade?: boolean;
  /** Chunks in flight at most (default: the device's buffer count; 1 when it does not report it). */
  window?: number;
  /** Never more chunks in flight than the buffers the device reports, whatever `window` says (serial links). */
  windowWithinBuffers?: boolean;
  /** Data bytes per chunk; default: computed from the device's buffer size and the transport MTU. */
  chunkSize?: number;
  /** Largest SMP request to send; default: negotiated from the device's buffer size and the transport MTU. */
  maxPacketSize?: number;
  /** Per-chunk timeout in ms (default: the client's timeout). */
  timeoutMs?: number;
  /** Timeout of a first chunk (offset 0), which may erase a whole slot first (default `timeoutMs`). */
  firstChunkTimeoutMs?: number;
  /**
   * Chunk data in multiples of this many bytes (except the last chunk), for a device that writes only whole flash
   * units. Default 1; an upload that finds MCUboot's serial recovery on the other end uses 32 from its second chunk.
   */
  alignment?: number;
  /** How many times a timed-out chunk is resent (from the device's last offset) before giving up. Default 3. */
  retries?: number;
  onProgress?: (p: TransferProgress) => void;
  /** Sending went back to this offset (see WindowOptions.onRetry). */
  onRetry?: (off: number, reason: 'timeout' | 'missing') => void;
  signal?: AbortSignal;
}

export interface ImageUploadResult {
  bytes: number;
  sha256: Uint8Array;
  chunkSize: number;
  /** The most chunks that were in flight at once. */
  window: number;
  /** Offset the device already had when the upload started (0 unless resumed). */
  resumedFrom: number;
  /** The device answered like MCUboot's serial recovery (an `rc` with every offset): one chunk at a time. */
  bootloader: boolean;
  /** The device's `match` on the last response, when it sent one. */
  match?: boolean;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest);
}

export async function imageUpload(client: SmpClient, bytes: Uint8Array, options: ImageUploadOptions = {}): Promise<ImageUploadResult> {
  const total = bytes.length;
  if (total === 0) throw new SmpError('the image file is empty');
  const imageNum = options.image ?? 0;
  const retries = options.retries ?? 3;
  const signal = options.signal;
  const negotiate = options.maxPacketSize === undefined && options.chunkSize === undefined;
  // The buffer query and the first chunk go out together: the first chunk is sized for the smallest buffer of a
  // default Zephyr configuration, and the query's answer is back long before the first chunk's (a slot erase).
  const negotiating = negotiate ? transferLimits(client, signal) : undefined;
  negotiating?.catch(() => undefined); // awaited below; a failure of the first chunk must not leave it unhandled
  const sha = await sha256(bytes);
  let limit = options.maxPacketSize ?? (negotiate ? maxPacketFor(client, DEFAULT_BUF_SIZE) : Number.POSITIVE_INFINITY);
  const firstFields = { image: imageNum, off: 0, len: total, sha, ...(options.upgrade ? { upgrade: true } : {}) };
  const firstChunk = (): number => Math.min(options.chunkSize ?? total, fitChunk(firstFields, limit, total));
  // Sized for the worst case of the later chunks: the largest offset.
  const laterChunk = (): number => options.chunkSize ?? fitChunk({ image: imageNum, off: total }, limit, total);
  let chunkSize = laterChunk();
  if (chunkSize <= 0 || firstChunk() <= 0) {
    throw new SmpError(`Cannot create image upload request; MTU too low (requests of at most ${Math.min(limit, client.transport.mtu)} bytes)`);
  }

  let match: boolean | undefined;
  let alignment = Math.max(1, options.alignment ?? 1);
  let bootloader = false;
  const sendChunk = (off: number, timeoutMs: number | undefined, sig: AbortSignal | undefined) => {
    let n = off === 0 ? firstChunk() : Math.min(chunkSize, total - off);
    if (off + n < total && n > alignment) n -= n % alignment;
    const req = off === 0 ? { ...firstFields, data: bytes.subarray(0, n) } : { image: imageNum, off, data: bytes.subarray(off, off + n) };
    // A device that handles one request at a time loses a resend that arrives early: wait the whole timeout there.
    const timeout = off === 0 ? (options.firstChunkTimeoutMs ?? timeoutMs) : bootloader ? options.timeoutMs : timeoutMs;
    const reply = client.call(image.upload, req, { signal: sig, timeoutMs: timeout, tries: 1 }).then((r) => {
      if (r.match !== undefined) match = r.match;
      if (r.rc !== undefined) bootloader = true;
      return r.off;
    });
    return { end: off + n, reply };
  };

  // First chunk alone: it may trigger a slot erase (full timeout), and its answer tells whether the device resumes.
  let acked: number;
  let firstEnd: number;
  let negotiated: Awaited<typeof negotiating>;
  for (let attempt = 0; ; attempt++) {
    const first = sendChunk(0, options.timeoutMs, signal);
    firstEnd = first.end;
    try {
      if (attempt === 0 && negotiating) {
        negotiated = await negotiating;
        limit = negotiated.maxPacket;
        chunkSize = laterChunk();
      }
      acked = await first.reply;
      break;
    } catch (err) {
      first.reply.catch(() => undefined);
      if (isMessageTooLarge(err) && !options.chunkSize && limit > 128) {
        // The device's answer would not fit its buffer: smaller requests.
        limit = Math.max(128, Math.floor(limit * 0.75));
        chunkSize = laterChunk();
        continue;
      }
      if (!(err instanceof SmpTimeoutError) || attempt >= retries) {
        if (err instanceof SmpTimeoutError && !options.chunkSize) {
          throw new SmpError(
            `${err.message}; requests of up to ${limit} bytes went unanswered — the device may drop packets larger ` +
              `than its buffer: check CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE and the connection's mtu`,
          );
        }
        throw err;
      }
      // Zephyr drops a packet larger than its buffer without a word: after a second silence, try smaller
      // requests (one silence may just be a lost packet or a slow slot erase).
      if (!options.chunkSize && attempt >= 1 && limit > 128) {
        limit = Math.max(128, Math.floor(limit / 2));
        chunkSize = laterChunk();
      }
    }
  }
  // MCUboot's serial recovery handles one request at a time and writes whole flash units only: a pipelined chunk
  // would arrive at an offset it no longer expects, so it goes chunk by chunk, in aligned chunks.
  if (bootloader) alignment = Math.max(alignment, options.alignment ?? BOOTLOADER_CHUNK_ALIGN);
  const window = bootloader ? { start: 1, max: 1 } : windowFor(options.window, negotiated?.bufCount, options.windowWithinBuffers);
  // A fresh upload acknowledges exactly the first chunk; more means the device resumed a previous upload.
  const resumedFrom = acked > firstEnd ? acked : 0;
  options.onProgress?.({ done: Math.min(acked, total), total, ...(resumedFrom ? { resumedFrom } : {}) });

  const run = await runWindow({
    total,
    start: acked,
    window: window.start,
    maxWindow: window.max,
    retries,
    timeoutMs: options.timeoutMs,
    signal,
    send: sendChunk,
    onAck: (off) => options.onProgress?.({ done: off, total }),
    onRetry: options.onRetry,
  });
  if (match === false) throw new SmpError('the device reports that the uploaded image does not match its SHA-256');
  return { bytes: total, sha256: sha, chunkSize, window: Math.max(1, run.maxWindow), resumedFrom, bootloader, ...(match !== undefined ? { match } : {}) };
}
