import { decodeCborMap, encodeCborIndefinite } from '../protocol/cbor.js';
import { legacyCodeFor } from '../protocol/errors.js';
import { decodeHeader, encodeHeader, Op, SMP_HEADER_SIZE, type SmpHeader } from '../protocol/header.js';
import { check, hasFields, type CommandDef, type Schema } from '../groups/define.js';
import type { SmpTransport } from '../transport/transport.js';
import { GroupError, MgmtError } from './errors.js';

/** Per-request context handed to a handler. */
export interface HandlerContext {
  header: SmpHeader;
  /** 0 = SMP v1 request, 1 = SMP v2 request. */
  version: number;
  /** Identifies the link the request came from (fs transfer state is tied to it). */
  link: object;
  server: SmpServer;
}

export type Handler<Req, Rsp> = (req: Req, ctx: HandlerContext) => Rsp | Promise<Rsp>;

export interface RegisterOptions<Req = unknown> {
  /**
   * How the payload is read: 'map' (default when the request schema has fields): it must be a CBOR map
   * valid for the schema, else `{"rc": 3}`; 'ignore' (default for commands without request fields):
   * the handler reads nothing, a broken or empty payload is fine; 'optional': decoded when possible, `{}` otherwise.
   */
  payload?: 'map' | 'ignore' | 'optional';
  /** Replaces the command's request schema (handlers that validate fields themselves, with group errors). */
  request?: Schema<Req>;
}

interface Entry {
  cmd: CommandDef;
  handler: Handler<unknown, unknown>;
  payload: 'map' | 'ignore' | 'optional';
  request: Schema<unknown>;
}

export interface ServerOptions {
  /** Requests (header + payload) larger than this are dropped without an answer (serial: buf_size − 4). */
  maxRequestSize?: number;
  /** Responses (header + payload) larger than this are replaced by `{"rc": 7}` (EMSGSIZE). */
  maxResponseSize?: number;
  /**
   * SMP v1 translation overrides per group: a number (every code of the group becomes it) or a table.
   * Default: `legacyCodeFor` (Zephyr's per-group tables). Zephyr 3.4's fs group answers 1 for everything.
   */
  legacyOverrides?: Record<number, number | Record<number, number>>;
  /**
   * Requests waiting per link; more are dropped unanswered. Default 64: a bound on memory, above Zephyr's
   * net buffer count (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT), so that clients' windows are not cut short.
   */
  maxQueuedRequests?: number;
}

/** Raised when `handlePacket` meets a handler that answered with a Promise. */
export class AsyncHandlerError extends Error {
  override name = 'AsyncHandlerError';
}

/** How a handler's result settled: its value, or what it threw. */
type Settled = { value: unknown } | { thrown: unknown };

interface Outcome {
  body: Record<string, unknown>;
  /** An SMP-level error (rc shape): processing of further packets in the buffer stops. */
  stop: boolean;
}

/**
 * An SMP server dispatching like Zephyr's smp.c / mgmt.c (reference §1.8, §6.1): handlers are
 * registered per command definition; responses are encoded the way zcbor does (indefinite maps).
 */
export class SmpServer {
  private readonly handlers = new Map<string, Entry>();
  private readonly groupNames = new Map<number, string>();
  private readonly groupOrder: number[] = [];
  private readonly transports = new Set<SmpTransport>();
  readonly options: ServerOptions;
  /** While true, requests are dropped without an answer (the device is rebooting). */
  offline = false;
  /** When set, the device stops answering at this `performance.now()` time even if its reboot timer runs late. */
  goesDownAt: number | undefined;

  constructor(options: ServerOptions = {}) {
    this.options = options;
  }

  private get maxQueued(): number {
    return this.options.maxQueuedRequests ?? 64;
  }

  /** Registers (or replaces) the handler of one command. */
  register<Req, Rsp, HandlerReq = Req>(cmd: CommandDef<Req, Rsp>, handler: Handler<HandlerReq, Rsp>, options: RegisterOptions<HandlerReq> = {}): void {
    const request = (options.request ?? cmd.request) as Schema<unknown>;
    const payload = options.payload ?? (options.request || hasFields(cmd.request) ? 'map' : 'ignore');
    this.handlers.set(key(cmd.group, cmd.id, cmd.op), {
      cmd: cmd as CommandDef,
      handler: handler as Handler<unknown, unknown>,
      payload,
      request,
    });
    if (!this.groupOrder.includes(cmd.group)) this.groupOrder.push(cmd.group);
  }

  /** Removes one command by its definition's name (`"os.params"`): the device answers it as unsupported. */
  unregisterCommand(name: string): void {
    for (const [k, e] of this.handlers) if (e.cmd.name === name) this.handlers.delete(k);
  }

  unregisterGroup(group: number): void {
    for (const [k, e] of this.handlers) if (e.cmd.group === group) this.handlers.delete(k);
    const i = this.groupOrder.indexOf(group);
    if (i >= 0) this.groupOrder.splice(i, 1);
  }

  /** Name reported by enum details (`"os mgmt"` …). */
  setGroupName(group: number, name: string): void {
    this.groupNames.set(group, name);
  }

  groupName(group: number): string | undefined {
    return this.groupNames.get(group);
  }

  /** Registered groups, in registration order. */
  groups(): number[] {
    return [...this.groupOrder];
  }

  /** Number of command slots of a group (highest id + 1), as Zephyr's handler count. */
  handlerCount(group: number): number {
    let n = 0;
    for (const e of this.handlers.values()) if (e.cmd.group === group) n = Math.max(n, e.cmd.id + 1);
    return n;
  }

  /** Processes a buffer holding one or more packets synchronously (every handler met must be synchronous). */
  handlePacket(bytes: Uint8Array, link: object = this): Uint8Array[] {
    const step = this.process(bytes, link).next();
    if (step.done) return step.value;
    step.value.catch(() => undefined);
    throw new AsyncHandlerError('a handler returned a Promise: use handlePacketAsync');
  }

  /** Processes a buffer holding one or more packets; handlers may be asynchronous. */
  async handlePacketAsync(bytes: Uint8Array, link: object = this): Promise<Uint8Array[]> {
    const it = this.process(bytes, link);
    let step = it.next();
    while (!step.done) {
      const settled = await step.value.then(
        (value): Settled => ({ value }),
        (thrown: unknown): Settled => ({ thrown }),
      );
      step = it.next(settled);
    }
    return step.value;
  }

  /**
   * The dispatch loop as a generator returning the response packets. A handler's Promise is yielded
   * to the driver, which resumes the loop with how it settled (only the async driver can).
   */
  private *process(bytes: Uint8Array, link: object): Generator<Promise<unknown>, Uint8Array[], Settled> {
    const responses: Uint8Array[] = [];
    let pos = 0;
    if (this.offline || (this.goesDownAt !== undefined && performance.now() >= this.goesDownAt)) return responses;
    if (this.options.maxRequestSize !== undefined && bytes.length > this.options.maxRequestSize) return responses;
    while (bytes.length - pos >= SMP_HEADER_SIZE) {
      const header = decodeHeader(bytes, pos);
      pos += SMP_HEADER_SIZE;
      let length = header.length;
      const remaining = bytes.length - pos;
      const rspVersion = Math.min(header.version, 1);
      const reply = (body: Record<string, unknown>): Uint8Array => this.encodeResponse(header, rspVersion, body);
      if (length > remaining) {
        responses.push(reply({ rc: 9 }));
        return responses;
      }
      // Zephyr quirk: a zero length with a map behind it — the handler reads the rest of the buffer.
      if (length === 0 && remaining > 0 && pos === SMP_HEADER_SIZE) length = remaining;
      const payload = bytes.subarray(pos, pos + length);
      pos += length;

      let outcome: Outcome;
      if (header.op !== Op.Read && header.op !== Op.Write) {
        outcome = { body: { rc: 8 }, stop: true };
      } else if (header.version >= 2) {
        outcome = { body: { rc: 13 }, stop: true };
      } else {
        const entry = this.lookup(header);
        if (!entry) {
          outcome = { body: { rc: 8 }, stop: true };
        } else {
          const ctx: HandlerContext = { header, version: header.version, link, server: this };
          const prepared = this.prepare(entry, payload);
          if ('error' in prepared) {
            outcome = { body: { rc: prepared.error }, stop: true };
          } else {
            let settled: Settled;
            try {
              settled = { value: entry.handler(prepared.req, ctx) };
            } catch (thrown) {
              settled = { thrown };
            }
            if ('value' in settled && isPromise(settled.value)) settled = yield settled.value;
            outcome =
              'thrown' in settled ? errorOutcome(settled.thrown, header.version, this.options.legacyOverrides) : { body: toBody(settled.value), stop: false };
          }
        }
      }
      let rsp = reply(outcome.body);
      if (this.options.maxResponseSize !== undefined && rsp.length > this.options.maxResponseSize) {
        rsp = reply({ rc: 7 });
        outcome.stop = true;
      }
      responses.push(rsp);
      if (outcome.stop) return responses;
    }
    return responses;
  }

  private lookup(header: SmpHeader): Entry | undefined {
    const exact = this.handlers.get(key(header.group, header.id, header.op));
    if (exact) return exact;
    // Echo answers both ops (Zephyr registers the same handler for read and write).
    if (header.group === 0 && header.id === 0) return this.handlers.get(key(0, 0, Op.Write));
    return undefined;
  }

  private prepare(entry: Entry, payload: Uint8Array): { req: unknown } | { error: number } {
    if (entry.payload === 'ignore') return { req: {} };
    let map: Record<string, unknown>;
    try {
      map = decodeCborMap(payload);
    } catch {
      if (entry.payload === 'optional') return { req: {} };
      return { error: 3 };
    }
    const parsed = check(entry.request, map);
    if (!parsed.ok) return entry.payload === 'optional' ? { req: {} } : { error: 3 };
    return { req: parsed.value };
  }

  private encodeResponse(req: SmpHeader, version: number, body: Record<string, unknown>): Uint8Array {
    const payload = encodeCborIndefinite(body);
    const header = encodeHeader({
      op: req.op === Op.Read ? Op.ReadRsp : Op.WriteRsp,
      version,
      flags: 0,
      length: payload.length,
      group: req.group,
      seq: req.seq,
      id: req.id,
    });
    const out = new Uint8Array(header.length + payload.length);
    out.set(header, 0);
    out.set(payload, header.length);
    return out;
  }

  /** Serves a transport: every packet received is answered on it. Several transports can be attached. */
  attach(transport: SmpTransport): () => void {
    this.transports.add(transport);
    let queue = Promise.resolve();
    let queued = 0;
    let attached = true;
    transport.onPacket((packet) => {
      // A peer sending faster than the device answers loses what does not fit, as a device out of buffers does.
      if (queued >= this.maxQueued) return;
      queued++;
      queue = queue.then(async () => {
        queued--;
        if (!attached) return;
        let responses: Uint8Array[];
        try {
          responses = await this.handlePacketAsync(packet, transport);
        } catch {
          return;
        }
        for (const r of responses) {
          try {
            await transport.send(r);
          } catch {
            /* link down or response too large for the link: nothing to do */
          }
        }
      });
    });
    const detach = (): void => {
      attached = false;
      this.transports.delete(transport);
    };
    transport.onClose(detach);
    return detach;
  }

  attachedTransports(): SmpTransport[] {
    return [...this.transports];
  }
}

function key(group: number, id: number, op: number): string {
  return `${group}:${id}:${op}`;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function toBody(result: unknown): Record<string, unknown> {
  if (result && typeof result === 'object' && !Array.isArray(result) && !(result instanceof Uint8Array)) {
    return result as Record<string, unknown>;
  }
  return {};
}

function errorOutcome(err: unknown, version: number, overrides?: ServerOptions['legacyOverrides']): Outcome {
  if (err instanceof GroupError) {
    if (version === 0) {
      const o = overrides?.[err.group];
      const fromOverride = typeof o === 'number' ? o : o?.[err.rc];
      const rc = err.legacy ?? fromOverride ?? legacyCodeFor(err.group, err.rc);
      return { body: rc === 0 ? {} : { rc }, stop: false };
    }
    return { body: { err: { group: err.group, rc: err.rc }, ...(err.extra ?? {}) }, stop: false };
  }
  if (err instanceof MgmtError) return { body: { rc: err.rc }, stop: true };
  return { body: { rc: 1 }, stop: true };
}
