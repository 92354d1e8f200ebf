import { decodeCborMap, encodeCbor } from '../protocol/cbor.js';
import {
  GroupId,
  SmpAbortError,
  SmpDeviceError,
  SmpError,
  SmpShapeError,
  SmpTimeoutError,
} from '../protocol/errors.js';
import { decodePacket, encodePacket, Op, responseOp, SmpVersion, type SmpHeader } from '../protocol/header.js';
import type { SmpTransport } from '../transport/transport.js';
import { check, type CommandDef } from '../groups/define.js';

export type TraceDirection = 'tx' | 'rx';

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
  send(group: number, id: number, op: number, payload: Uint8Array, options: RequestOptions = {}): Promise<RawResponse> {
    if (this.closedError) return Promise.reject(this.closedError);
    const seq = this.allocateSeq();
    const packet = encodePacket({ op, version: this.options.version, flags: 0, group, seq, id }, payload);
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
        attempt++;
        this.options.onTrace?.('tx', packet);
        this.transport.send(packet).catch((err: Error) => {
          cleanup();
          reject(err);
        });
        timer = setTimeout(() => {
          if (attempt < tries) attemptSend();
          else {
            cleanup();
            reject(
              new SmpTimeoutError(
                `no response from the device within ${timeoutMs / 1000} s` +
                  (tries > 1 ? ` (${tries} tries)` : '') +
                  ` to ${describeCommand(group, id)}`,
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
    let header: SmpHeader;
    let body: Record<string, unknown>;
    try {
      const packet = decodePacket(bytes);
      header = packet.header;
      body = packet.payload.length === 0 ? {} : decodeCborMap(packet.payload, { rejectDuplicateKeys: false });
    } catch {
      this.droppedResponses++;
      return;
    }
    const p = this.pending.get(header.seq);
    if (!p || p.group !== header.group || p.id !== header.id || p.op !== header.op) {
      this.droppedResponses++;
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
