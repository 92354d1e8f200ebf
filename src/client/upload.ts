/**
 * Image upload over SMP (image group, command 1), browser-safe (WebCrypto for SHA-256, no Node APIs).
 *
 * The first chunk carries `image`, `off: 0`, `len`, `sha` (SHA-256 of the whole file, which Zephyr uses to
 * recognise a resumed upload) and `upgrade` when asked. Later chunks carry only `image`, `off` and `data`.
 * Up to `window` chunks are kept in flight; the device's returned `off` is authoritative: whenever it differs
 * from what we expected, the in-flight chunks are drained and sending continues from the device's offset.
 */
import { encodeCbor } from '../protocol/cbor.js';
import { SmpAbortError, SmpError, SmpTimeoutError } from '../protocol/errors.js';
import { SMP_HEADER_SIZE } from '../protocol/header.js';
import { os } from '../groups/os.js';
import { image } from '../groups/image.js';
import type { SmpClient } from './client.js';

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
  /** Chunks in flight (default 1). */
  window?: number;
  /** Data bytes per chunk; default: computed from the device's buffer size and the transport MTU. */
  chunkSize?: number;
  /** Largest SMP request to send; default: negotiated from the device's buffer size and the transport MTU. */
  maxPacketSize?: number;
  /** Per-chunk timeout in ms (default: the client's timeout). */
  timeoutMs?: number;
  /** How many times a timed-out chunk is resent (from the device's last offset) before giving up. Default 3. */
  retries?: number;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
}

export interface ImageUploadResult {
  bytes: number;
  sha256: Uint8Array;
  chunkSize: number;
  /** Offset the device already had when the upload started (0 unless resumed). */
  resumedFrom: number;
  /** The device's `match` on the last response, when it sent one. */
  match?: boolean;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest);
}

function bstrHeaderSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/**
 * Largest SMP packet we may send: the transport MTU (minus 4 on serial, for the framing's length and CRC
 * that Zephyr counts against its buffer) and the device's SMP buffer size (`os.params`, fallback 512).
 */
export async function maxPacketSize(client: SmpClient, signal?: AbortSignal): Promise<number> {
  let bufSize = 512;
  try {
    const p = await client.call(os.mcumgrParams, {}, { signal, timeoutMs: 1000, tries: 3 });
    if (p.buf_size > 0) bufSize = p.buf_size;
  } catch (err) {
    if (err instanceof SmpAbortError) throw err;
    // not supported (rc 8) or no answer: keep the fallback
  }
  const t = client.transport as { mtu: number; constructor: { name: string } };
  const serial = /serial/i.test(t.constructor.name);
  const mtu = t.mtu - (serial ? 4 : 0);
  return Math.max(64, Math.min(mtu, bufSize));
}

/** Largest data length such that `SMP header + encode({...fields, data})` fits in `limit` bytes. */
export function fitChunk(fields: Record<string, unknown>, limit: number, remaining: number): number {
  const emptyLen = SMP_HEADER_SIZE + encodeCbor({ ...fields, data: new Uint8Array(0) }).length; // includes 1-byte bstr header
  let n = Math.min(remaining, Math.max(0, limit - emptyLen));
  while (n > 0 && emptyLen - 1 + bstrHeaderSize(n) + n > limit) n--;
  return n;
}

/**
 * Round-trip estimate for chunk timeouts (in the spirit of TCP's RTO): on a lossy link a lost chunk costs
 * a few round trips instead of the full request timeout. The first chunk keeps the full timeout (slot erase).
 */
class RetransmitTimer {
  private srtt: number | undefined;
  private rttvar = 0;

  sample(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  timeout(ceiling: number | undefined): number | undefined {
    if (this.srtt === undefined) return ceiling;
    const rto = Math.max(250, this.srtt + 4 * this.rttvar) * 2;
    return ceiling === undefined ? Math.min(rto, 10_000) : Math.min(rto, ceiling);
  }
}

interface InFlight {
  off: number;
  end: number;
  promise: Promise<{ ok: true; off: number; match?: boolean } | { ok: false; error: Error }>;
}

export async function imageUpload(
  client: SmpClient,
  bytes: Uint8Array,
  options: ImageUploadOptions = {},
): Promise<ImageUploadResult> {
  const total = bytes.length;
  const imageNum = options.image ?? 0;
  const window = Math.max(1, options.window ?? 1);
  const retries = options.retries ?? 3;
  const signal = options.signal;
  const sha = await sha256(bytes);
  if (total === 0) throw new SmpError('the image file is empty');

  let limit = options.maxPacketSize ?? (options.chunkSize ? Number.POSITIVE_INFINITY : await maxPacketSize(client, signal));
  // Worst case for the later chunks: the largest offset.
  let chunkSize = options.chunkSize ?? fitChunk({ image: imageNum, off: total }, limit, total);
  if (chunkSize <= 0) throw new SmpError('Cannot create image upload request; MTU too low');

  const rto = new RetransmitTimer();
  const sendChunk = (off: number): InFlight => {
    let req: { image: number; off: number; len?: number; sha?: Uint8Array; upgrade?: boolean; data: Uint8Array };
    let n: number;
    if (off === 0) {
      const first = { image: imageNum, off: 0, len: total, sha, ...(options.upgrade ? { upgrade: true } : {}) };
      n = Math.min(options.chunkSize ?? total, fitChunk(first, limit, total));
      req = { ...first, data: bytes.subarray(0, n) };
    } else {
      n = Math.min(chunkSize, total - off);
      req = { image: imageNum, off, data: bytes.subarray(off, off + n) };
    }
    const sentAt = performance.now();
    const promise = client
      .call(image.upload, req, { signal, timeoutMs: off === 0 ? options.timeoutMs : rto.timeout(options.timeoutMs), tries: 1 })
      .then(
        (r) => {
          rto.sample(performance.now() - sentAt);
          return { ok: true as const, off: r.off, match: r.match };
        },
        (error: Error) => ({ ok: false as const, error }),
      );
    return { off, end: off + n, promise };
  };

  // First chunk alone: it may trigger a slot erase, and its answer tells whether the device resumes.
  let first: Awaited<InFlight['promise']> | undefined;
  for (let attempt = 0; ; attempt++) {
    first = await sendChunk(0).promise;
    if (first.ok) break;
    if (!(first.error instanceof SmpTimeoutError) || attempt >= retries) {
      if (first.error instanceof SmpTimeoutError && !options.chunkSize) {
        throw new SmpError(
          `${first.error.message}; requests of up to ${limit} bytes went unanswered — the device may drop packets larger ` +
            `than its buffer: check CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE and the connection's mtu`,
        );
      }
      throw first.error;
    }
    // Zephyr drops a packet larger than its buffer without a word: after a second silence, try smaller
    // requests (one silence may just be a lost packet or a slow slot erase).
    if (!options.chunkSize && attempt >= 1 && limit > 128) {
      limit = Math.max(128, Math.floor(limit / 2));
      chunkSize = fitChunk({ image: imageNum, off: total }, limit, total);
    }
  }
  let acked = first.off;
  let match = first.match;
  // A fresh upload acknowledges exactly the first chunk; more means the device resumed a previous upload.
  const firstLen = Math.min(
    options.chunkSize ?? total,
    fitChunk({ image: imageNum, off: 0, len: total, sha, ...(options.upgrade ? { upgrade: true } : {}) }, limit, total),
  );
  const isResume = acked > firstLen;
  options.onProgress?.({ done: Math.min(acked, total), total, ...(isResume ? { resumedFrom: acked } : {}) });

  let next = acked;
  let timeouts = 0;
  const queue: InFlight[] = [];
  const drain = async (): Promise<void> => {
    while (queue.length) await queue.shift()!.promise;
  };
  while (acked < total) {
    while (queue.length < window && next < total) {
      const c = sendChunk(next);
      queue.push(c);
      next = c.end;
    }
    const item = queue.shift()!;
    const r = await item.promise;
    if (!r.ok) {
      await drain();
      if (r.error instanceof SmpTimeoutError && timeouts < retries) {
        timeouts++;
        next = acked; // resend from the device's last offset
        continue;
      }
      throw r.error;
    }
    timeouts = 0;
    if (r.match !== undefined) match = r.match;
    acked = r.off;
    options.onProgress?.({ done: Math.min(acked, total), total });
    if (acked !== item.end) {
      // The device is somewhere else: let the outstanding chunks settle, then continue from its offset.
      await drain();
      next = acked;
    }
  }
  await drain();
  if (match === false) throw new SmpError('the device reports that the uploaded image does not match its SHA-256');
  return { bytes: total, sha256: sha, chunkSize, resumedFrom: isResume ? first.off : 0, ...(match !== undefined ? { match } : {}) };
}
