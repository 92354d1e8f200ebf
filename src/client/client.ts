import { decodeCborMap, encodeCbor } from '../protocol/cbor.js';
import { GroupId, SmpAbortError, SmpCborError, SmpDeviceError, SmpError, SmpRequestTooLargeError, SmpShapeError, SmpTimeoutError } from '../protocol/errors.js';
import { decodePacket, encodePacket, Op, responseOp, SmpVersion, type SmpHeader } from '../protocol/header.js';
import type { SmpTransport } from '../transport/transport.js';
import { check, type CommandDef } from '../groups/define.js';

export type TraceDirection = 'tx' | 'rx';

/** MGMT_ERR_ENOTSUP. */
const MGMT_ENOTSUP = 8;
/** The SMP header's payload length is 16 bits. */
const MAX_PAYLOAD = 0xffff;

export interface ClientOptions {
  /** Per-try response timeout in milliseconds (default 10 000, as the Go tool's 10 s). */
  timeoutMs?: number;
  /** Total attempts per request; a retry resends the identical packet (same sequence number). Default 1. */
  tries?: number;
  /** Header version bits: 1 = SMP v2 (default), 0 = SMP v1 (legacy, what the Go tool sends). */
  version?: number;
  /** First sequence number (default random). */
  firstSeq?: number;
  /** Called with every packet sent and received, for `-l debug`. */
  onTrace?: (direction: TraceDirection, packet: Uint8Array) => void;
  /**
   * SMP v2 only: when the device answers a v2 request with nothing or "not supported" before it ever answered one
   * properly, ask again in v1, and keep v1 for the rest of this client's life if that works. Default false.
   */
  fallbackToV1?: boolean;
}

export interface RequestOptions {
  timeoutMs?: number;
  tries?: number;
  signal?: AbortSignal;
}

export interface RawResponse {
  header: SmpHeader;
  body: Record<string, unknown>;
}

interface Pending {
  group: number;
  id: number;
  op: number;
  resolve(rsp: RawResponse): void;
  reject(err: Error): void;
}

/**
 * Matches responses to requests by sequence number (checking group, command and op too), times out,
 * retries, and keeps any number of requests in flight. Late or duplicate responses are dropped.
 */
export class SmpClient {
  readonly transport: SmpTransport;
  private readonly options: Required<Omit<ClientOptions, 'onTrace' | 'firstSeq'>> & Pick<ClientOptions, 'onTrace'>;
  /** A v2 request was answered properly: no falling back to v1 any more. */
  private v2Answered = false;
  /** No request leaves before this time (performance.now()): the device's input timeout after a lost answer. */
  private quietUntil = 0;
  private readonly pending = new Map<number, Pending>();
  private nextSeq: number;
  private closedError: Error | undefined;
  /** Counts responses that matched no pending request (late, duplicate or foreign). */
  droppedResponses = 0;

  constructor(transport: SmpTransport, options: ClientOptions = {}) {
    this.transport = transport;
    this.options = {
      timeoutMs: options.timeoutMs ?? 10_000,
      tries: Math.max(1, options.tries ?? 1),
      version: options.version ?? SmpVersion.V2,
      fallbackToV1: options.fallbackToV1 ?? false,
      onTrace: options.onTrace,
    };
    this.nextSeq = (options.firstSeq ?? Math.floor(Math.random() * 256)) & 0xff;
    transport.onPacket((packet) => this.receive(packet));
    transport.onClose((error) => {
      this.closedError = error ?? new SmpError('the connection to the device was closed');
      for (const [seq, p] of this.pending) {
        this.pending.delete(seq);
        p.reject(this.closedError);
      }
    });
  }

  /** Why the transport closed under this client (a lost link), or undefined while it is open. */
  get closeReason(): Error | undefined {
    return this.closedError;
  }

  get version(): number {
    return this.options.version;
  }

  /** Sends a typed command and returns its validated response; device errors become SmpDeviceError. */
  async call<Req, Rsp>(cmd: CommandDef<Req, Rsp>, request: Req, options: RequestOptions = {}): Promise<Rsp> {
    const { body } = await this.send(cmd.group, cmd.id, cmd.op, encodeCbor(request ?? {}), options);
    throwIfDeviceError(body, cmd.group, cmd.id);
    const parsed = check(cmd.response, body);
    if (!parsed.ok) throw new SmpShapeError(`unexpected response to ${cmd.name}: ${parsed.problem}`);
    return parsed.value;
  }

  /** Sends a raw request and returns the decoded response map without interpreting errors. */
  async send(group: number, id: number, op: number, payload: Uint8Array, options: RequestOptions = {}): Promise<RawResponse> {
    const version = this.options.version;
    if (version !== SmpVersion.V2 || !this.options.fallbackToV1 || this.v2Answered) return this.sendAs(version, group, id, op, payload, options);
    let v2: RawResponse;
    try {
      v2 = await this.sendAs(version, group, id, op, payload, options);
    } catch (err) {
      if (!(err instanceof SmpTimeoutError) || this.v2Answered) throw err;
      // One v1 try: a device that is simply gone then costs one more timeout, not a second round of tries.
      const v1 = await this.sendAs(SmpVersion.V1, group, id, op, payload, { ...options, tries: 1 }).catch((v1err: unknown) => {
        throw v1err instanceof SmpTimeoutError ? new SmpTimeoutError(`${err.message}, nor to the same request in SMP v1`) : v1err;
      });
      this.options.version = SmpVersion.V1;
      return v1;
    }
    if (v2.body.rc !== MGMT_ENOTSUP) {
      this.v2Answered = true;
      return v2;
    }
    const v1 = await this.sendAs(SmpVersion.V1, group, id, op, payload, options);
    if (v1.body.rc !== MGMT_ENOTSUP) this.options.version = SmpVersion.V1;
    return v1;
  }

  private sendAs(version: number, group: number, id: number, op: number, payload: Uint8Array, options: RequestOptions): Promise<RawResponse> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (payload.length > MAX_PAYLOAD) {
      return Promise.reject(
        new SmpRequestTooLargeError(`${describeCommand(group, id)} is ${payload.length} bytes; an SMP packet carries at most ${MAX_PAYLOAD}`),
      );
    }
    const seq = this.allocateSeq();
    const packet = encodePacket({ op, version, flags: 0, group, seq, id }, payload);
    const tries = Math.max(1, options.tries ?? this.options.tries);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const signal = options.signal;

    return new Promise<RawResponse>((resolve, reject) => {
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(seq);
      };
      const onAbort = (): void => {
        cleanup();
        reject(new SmpAbortError('request aborted'));
      };
      const attemptSend = (): void => {
        const wait = this.quietUntil - performance.now();
        if (wait > 0) {
          timer = setTimeout(attemptSend, wait);
          return;
        }
        attempt++;
        this.options.onTrace?.('tx', packet);
        this.transport.send(packet).catch((err: Error) => {
          cleanup();
          reject(err);
        });
        timer = setTimeout(() => {
          // The request or its answer was lost: a device with an input timeout may still hold part of it.
          if (this.transport.resendQuietMs) this.quietUntil = performance.now() + this.transport.resendQuietMs;
          if (attempt < tries) attemptSend();
          else {
            cleanup();
            reject(
              new SmpTimeoutError(
                `no response from the device within ${timeoutMs / 1000} s${tries > 1 ? ` (${tries} tries)` : ''} to ${describeCommand(group, id)}`,
              ),
            );
          }
        }, timeoutMs);
      };
      if (signal?.aborted) {
        reject(new SmpAbortError('request aborted'));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(seq, {
        group,
        id,
        op: responseOp(op),
        resolve: (rsp) => {
          cleanup();
          resolve(rsp);
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      });
      attemptSend();
    });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private allocateSeq(): number {
    for (let i = 0; i < 256; i++) {
      const seq = this.nextSeq;
      this.nextSeq = (this.nextSeq + 1) & 0xff;
      if (!this.pending.has(seq)) return seq;
    }
    throw new SmpError('256 requests already in flight');
  }

  private receive(bytes: Uint8Array): void {
    this.options.onTrace?.('rx', bytes);
    let packet: ReturnType<typeof decodePacket>;
    try {
      packet = decodePacket(bytes);
    } catch {
      this.droppedResponses++;
      return;
    }
    const { header } = packet;
    const p = this.pending.get(header.seq);
    if (!p || p.group !== header.group || p.id !== header.id || p.op !== header.op) {
      this.droppedResponses++;
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = packet.payload.length === 0 ? {} : decodeCborMap(packet.payload, { rejectDuplicateKeys: false });
    } catch (err) {
      // The answer to this request, but unusable: say why rather than wait for a timeout.
      p.reject(new SmpCborError(`the answer to ${describeCommand(header.group, header.id)} is not usable: ${(err as Error).message}`));
      return;
    }
    p.resolve({ header, body });
  }
}

export function throwIfDeviceError(body: Record<string, unknown>, group: number, id: number): void {
  const err = body.err;
  if (err && typeof err === 'object' && !(err instanceof Uint8Array)) {
    const e = err as { group?: unknown; rc?: unknown };
    if (typeof e.rc === 'number' && e.rc !== 0) {
      // Zephyr's stat group reports its errors under group 63 (a slip in stat_mgmt.c): key on the request's group.
      const errGroup = typeof e.group === 'number' ? e.group : group;
      const effective = group === GroupId.STAT && errGroup === GroupId.ZEPHYR_BASIC ? GroupId.STAT : errGroup;
      throw new SmpDeviceError('group', effective, e.rc, { group, id }, undefined, body);
    }
  }
  if (typeof body.rc === 'number' && body.rc !== 0) {
    throw new SmpDeviceError('mgmt', group, body.rc, { group, id }, typeof body.rsn === 'string' ? body.rsn : undefined, body);
  }
}

function describeCommand(group: number, id: number): string {
  return `the request for group ${group} command ${id}`;
}

export { Op };
