/** Per-invocation state of a device command: global options, the lazily opened client, output helpers. */
import type { Command } from 'commander';
import { SmpClient } from '../client/client.js';
import { explainInRecovery } from './recovery-hint.js';
import { DEFAULT_MAX_WINDOW, defaultWindowCap } from '../client/params.js';
import { waitForReboot } from '../client/reboot.js';
import type { CommandDef } from '../groups/define.js';
import { SmpVersion } from '../protocol/header.js';
import { openTransport, resolveConnection, UsageError, type ConnOptions, type SerialSession } from './connect.js';
import { jsonable, toHex } from './format.js';
import { ProgressBar } from './progress.js';

export const EXIT = { OK: 0, DEVICE: 2, TRANSPORT: 3, USAGE: 64 } as const;

export interface GlobalOpts extends ConnOptions {
  timeout: string;
  tries: string;
  loglevel: string;
  maxwinsize?: string;
  json?: boolean;
  jsonl?: boolean;
  smpV1?: boolean;
}

export class Ctx {
  private clientPromise: Promise<SmpClient> | undefined;
  /** Machine output: `--json` (one document) or `--jsonl` (one event per line). */
  readonly json: boolean;
  readonly jsonl: boolean;
  readonly timeoutMs: number;
  readonly tries: number;
  /** `-w`: the most chunks in flight the user allows (undefined: not given). */
  private readonly maxWindow: number | undefined;
  /**
   * Chunks in flight at most for transfers, known once the link is open: `-w`, else DEFAULT_MAX_WINDOW, except on
   * serial, where a dropped request costs a timeout (the device's buffer count, capped by `-w`, see windowFor).
   */
  window: number | undefined;
  /** Serial: the window never exceeds the device's buffer count, `-w` or not (see windowFor). */
  private windowWithinBuffers = false;
  readonly debug: boolean;
  /** The serial board's USB identity, kept across reopens (see SerialSession). */
  private readonly serialSession: SerialSession = {};
  /** What we were doing, for timeout messages. */
  doing = 'the response';

  constructor(readonly opts: GlobalOpts) {
    if (opts.json && opts.jsonl) throw new UsageError('--json and --jsonl exclude each other');
    this.jsonl = Boolean(opts.jsonl);
    this.json = Boolean(opts.json) || this.jsonl;
    const t = Number(opts.timeout);
    if (!Number.isFinite(t) || t <= 0) throw new UsageError(`invalid timeout "${opts.timeout}" (seconds, e.g. -t 10)`);
    this.timeoutMs = Math.round(t * 1000);
    const r = Number(opts.tries);
    if (!Number.isInteger(r) || r < 1) throw new UsageError(`invalid tries "${opts.tries}" (a whole number >= 1)`);
    this.tries = r;
    if (opts.maxwinsize !== undefined) {
      const w = Number(opts.maxwinsize);
      if (!Number.isInteger(w) || w < 1 || w > 64) throw new UsageError(`invalid maxwinsize "${opts.maxwinsize}" (1..64)`);
      this.maxWindow = w;
    }
    this.window = this.maxWindow ?? DEFAULT_MAX_WINDOW;
    this.debug = opts.loglevel === 'debug';
  }

  client(): Promise<SmpClient> {
    this.clientPromise ??= this.open();
    return this.clientPromise;
  }

  /** The client, when the command opened one. */
  openedClient(): Promise<SmpClient> | undefined {
    return this.clientPromise;
  }

  private async open(): Promise<SmpClient> {
    const spec = resolveConnection(this.opts);
    if (this.debug) this.log(`Using connection profile: name=${spec.name} type=${spec.type} connstring=${spec.connstring}`);
    const transport = await openTransport(spec, { timeoutMs: this.timeoutMs, serial: this.serialSession });
    this.window = defaultWindowCap(spec.type, this.maxWindow);
    this.windowWithinBuffers = spec.type === 'serial';
    return new SmpClient(transport, {
      timeoutMs: this.timeoutMs,
      tries: this.tries,
      version: this.opts.smpV1 ? SmpVersion.V1 : SmpVersion.V2,
      fallbackToV1: !this.opts.smpV1,
      onTrace: this.debug ? (dir, p) => this.log(`${dir === 'tx' ? 'Tx' : 'Rx'} SMP packet (${p.length} bytes): ${toHex(p)}`) : undefined,
    });
  }

  /** The window options of a transfer on the open link. */
  get transferWindow(): { window: number | undefined; windowWithinBuffers: boolean } {
    return { window: this.window, windowWithinBuffers: this.windowWithinBuffers };
  }

  /** Closes and reopens the transport (after a device reset on USB serial, for example). */
  async reconnect(): Promise<SmpClient> {
    const old = this.clientPromise;
    this.clientPromise = undefined;
    if (old) await old.then((c) => c.close()).catch(() => undefined);
    return this.client();
  }

  /** After the device answered `os reset`: waits until it has gone down and answers again, within `waitMs`. */
  async waitForReboot(waitMs = this.timeoutMs): Promise<SmpClient> {
    const client = await waitForReboot(await this.client(), {
      timeoutMs: waitMs,
      reopen: () => this.reconnect(),
      onStatus: this.debug ? (status) => this.log(`reboot wait: ${status}`) : undefined,
    });
    this.clientPromise = Promise.resolve(client);
    return client;
  }

  async close(): Promise<void> {
    if (this.clientPromise) await this.clientPromise.then((c) => c.close()).catch(() => undefined);
  }

  log(msg: string): void {
    process.stderr.write(`${msg}\n`);
  }

  /** Human text on stdout, unless --json (then nothing; the caller emits the document). */
  say(text: string): void {
    if (!this.json) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The command's result: `text` in human mode, `value` as one JSON document in --json mode, the last line with --jsonl. */
  emit(value: unknown, text?: string): void {
    if (this.jsonl) this.event({ event: 'result', result: value });
    else if (this.json) process.stdout.write(`${JSON.stringify(jsonable(value), null, 2)}\n`);
    else if (text !== undefined) process.stdout.write(text);
  }

  /** With --jsonl, one event as one line on stdout (nothing otherwise). */
  event(value: Record<string, unknown>): void {
    if (this.jsonl) process.stdout.write(`${JSON.stringify(jsonable(value))}\n`);
  }

  /** Progress of a transfer (`details` go into its --jsonl start event). */
  progress(label: string, details: Record<string, unknown> = {}): ProgressBar {
    this.event({ event: 'start', operation: label, ...details });
    const mode = this.jsonl ? 'jsonl' : this.json ? 'off' : process.stderr.isTTY ? 'bar' : 'lines';
    return new ProgressBar(label, mode, process.stderr, (e) => this.event(e));
  }
}

type Handler = (ctx: Ctx, ...args: any[]) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any

let currentCtx: Ctx | undefined;

/** The context of the command that ran last (for error reporting). */
export function lastCtx(): Ctx | undefined {
  return currentCtx;
}

/** Wraps an action: builds the context from the global options and runs the handler. */
export function act(handler: Handler) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const ctx = new Ctx(cmd.optsWithGlobals() as GlobalOpts);
    currentCtx = ctx;
    try {
      await handler(ctx, ...args.slice(0, -1));
    } catch (err) {
      throw await explainInRecovery(ctx, err);
    } finally {
      await ctx.close();
    }
  };
}

/** A command without arguments: sends `{}` and prints the response as `text` renders it (or as JSON). */
export function queryCommand<Rsp>(
  parent: Command,
  name: string,
  description: string,
  def: CommandDef<Record<string, never>, Rsp>,
  text: (r: Rsp) => string,
): void {
  parent
    .command(name)
    .description(description)
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(def, {});
        ctx.emit(r, text(r));
      }),
    );
}
