/**
 * `mcumgr`: a command-line SMP client compatible with the Go mcumgr tool's flags, profiles and output.
 * Exit status: 0 success, 1 other failure, 2 device error, 3 timeout/transport error, 64 usage error.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { SmpClient } from '../client/client.js';
import { fileDownload, fileUpload } from '../client/files.js';
import { imageUpload } from '../client/upload.js';
import { enumeration, fs, image, os, settings, shell, stat } from '../groups/index.js';
import type { ImageStateList } from '../groups/image.js';
import { GROUP_NAMES, SmpAbortError, SmpDeviceError, SmpError, SmpTimeoutError } from '../protocol/errors.js';
import { SmpVersion } from '../protocol/header.js';
import { TransportError } from '../transport/transport.js';
import { openTransport, resolveConnection, UsageError, type ConnOptions } from './connect.js';
import {
  formatImageList,
  formatMpstat,
  formatStatGroup,
  formatStatList,
  formatTaskstat,
  fromHex,
  jsonable,
  toHex,
} from './format.js';
import { parseImageFile, readLocalFile } from './image-file.js';
import { registerDoctor } from './doctor.js';
import { registerLocalImageCommands } from './image-local.js';
import { KNOWN_CONNTYPES, profilePath, readProfiles, writeProfiles } from './profiles.js';
import { formatBytes, ProgressBar } from './progress.js';

export const EXIT = { OK: 0, FAILURE: 1, DEVICE: 2, TRANSPORT: 3, USAGE: 64 } as const;

interface GlobalOpts extends ConnOptions {
  timeout: string;
  tries: string;
  loglevel: string;
  maxwinsize: string;
  json?: boolean;
  smpV1?: boolean;
}

class ExitError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Per-invocation state: options, the lazily opened client, output helpers. */
class Ctx {
  private clientPromise: Promise<SmpClient> | undefined;
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly tries: number;
  readonly window: number;
  readonly debug: boolean;
  /** What we were doing, for timeout messages. */
  doing = 'the response';

  constructor(readonly opts: GlobalOpts) {
    this.json = Boolean(opts.json);
    const t = Number(opts.timeout);
    if (!Number.isFinite(t) || t <= 0) throw new UsageError(`invalid timeout "${opts.timeout}" (seconds, e.g. -t 10)`);
    this.timeoutMs = Math.round(t * 1000);
    const r = Number(opts.tries);
    if (!Number.isInteger(r) || r < 1) throw new UsageError(`invalid tries "${opts.tries}" (a whole number >= 1)`);
    this.tries = r;
    const w = Number(opts.maxwinsize);
    if (!Number.isInteger(w) || w < 1 || w > 64) throw new UsageError(`invalid maxwinsize "${opts.maxwinsize}" (1..64)`);
    this.window = w;
    this.debug = opts.loglevel === 'debug';
  }

  client(): Promise<SmpClient> {
    this.clientPromise ??= this.open();
    return this.clientPromise;
  }

  private async open(): Promise<SmpClient> {
    const spec = resolveConnection(this.opts);
    if (this.debug) this.log(`Using connection profile: name=${spec.name} type=${spec.type} connstring=${spec.connstring}`);
    const transport = await openTransport(spec);
    return new SmpClient(transport, {
      timeoutMs: this.timeoutMs,
      tries: this.tries,
      version: this.opts.smpV1 ? SmpVersion.V1 : SmpVersion.V2,
      onTrace: this.debug ? (dir, p) => this.log(`${dir === 'tx' ? 'Tx' : 'Rx'} SMP packet (${p.length} bytes): ${toHex(p)}`) : undefined,
    });
  }

  /** Closes and reopens the transport (after a device reset on USB serial, for example). */
  async reconnect(): Promise<SmpClient> {
    const old = this.clientPromise;
    this.clientPromise = undefined;
    if (old) await old.then((c) => c.close()).catch(() => undefined);
    return this.client();
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

  /** The command's result: `text` in human mode, `value` as one JSON document in --json mode. */
  emit(value: unknown, text?: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(jsonable(value), null, 2)}\n`);
    else if (text !== undefined) process.stdout.write(text);
  }

  progress(label: string): ProgressBar {
    return new ProgressBar(label, process.stderr, Boolean(process.stderr.isTTY) && !this.json);
  }
}

function parseHash(text: string): Uint8Array {
  let h: Uint8Array;
  try {
    h = fromHex(text);
  } catch {
    throw new UsageError(`invalid image hash "${text}": expected hex digits (see \`mcumgr image list\`)`);
  }
  if (h.length !== 32) throw new UsageError(`invalid image hash "${text}": expected 64 hex digits (a SHA-256), got ${h.length * 2}`);
  return h;
}

function parseUint(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`invalid ${what} "${text}" (a whole number)`);
  return n;
}

function localRfc3339(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function printable(bytes: Uint8Array): string | undefined {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[\x20-\x7e\t\r\n\u00a0-\uffff]*$/.test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

type Handler = (ctx: Ctx, ...args: any[]) => Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any

let currentCtx: Ctx | undefined;

/** Wraps an action: builds the context from the global options and runs the handler. */
function act(handler: Handler) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const ctx = new Ctx(cmd.optsWithGlobals() as GlobalOpts);
    currentCtx = ctx;
    try {
      await handler(ctx, ...args.slice(0, -1));
    } finally {
      await ctx.close();
    }
  };
}

function buildProgram(): Command {
  const program = new Command();
  program
    .name('mcumgr')
    .description('Manage Zephyr/MCUboot devices over SMP (MCUmgr): images, files, shell, stats, settings')
    .version('0.1.0', '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .addOption(new Option('--conntype <type>', 'connection type').choices(KNOWN_CONNTYPES))
    .option('--connstring <s>', 'connection string: serial "dev=/dev/ttyACM0,baud=115200,mtu=512", udp "host:port"')
    .option('--connextra <s>', 'appended to the connstring with a ","')
    .option('-c, --conn <name>', 'connection profile from ~/.mcumgr.cp.json (see `mcumgr conn`)')
    .option('-t, --timeout <sec>', 'response timeout in seconds', '10')
    .option('-r, --tries <n>', 'attempts per request (a retry resends the same packet)', '1')
    .addOption(
      new Option('-l, --loglevel <level>', 'log level; debug prints every SMP packet in hex on stderr')
        .choices(['critical', 'error', 'warn', 'info', 'debug'])
        .default('info'),
    )
    .option('-w, --maxwinsize <n>', 'image upload: chunks in flight', '5')
    .option('--json', 'print the result as one JSON document (byte strings as hex)')
    .option('--smp-v1', 'send SMP v1 headers, like the Go tool (default: SMP v2)')
    .showHelpAfterError('(run `mcumgr --help` for usage)');

  // ---- connection profiles --------------------------------------------------------------------------
  const conn = program.command('conn').description('Manage connection profiles (~/.mcumgr.cp.json)');
  conn
    .command('add')
    .description('Add or replace a profile: conn add NAME type=serial|udp connstring=...')
    .argument('<name>')
    .argument('[vars...]', 'type=<conntype> connstring=<connstring>')
    .action(
      act(async (ctx, name: string, vars: string[]) => {
        let type = '';
        let connstring = '';
        for (const v of vars) {
          const eq = v.indexOf('=');
          const key = eq < 0 ? v : v.slice(0, eq);
          const value = eq < 0 ? '' : v.slice(eq + 1);
          if (key === 'type') type = value;
          else if (key === 'connstring') connstring = value;
          else throw new UsageError(`Unknown variable ${key}`);
        }
        if (!type) throw new UsageError('Must specify a connection type');
        if (!KNOWN_CONNTYPES.includes(type)) type = 'none';
        const profiles = readProfiles().filter((p) => p.MyName !== name);
        profiles.push({ MyName: name, MyType: type, MyConnString: connstring });
        writeProfiles(profiles);
        ctx.emit({ added: { name, type, connstring }, file: profilePath() }, `Connection profile ${name} successfully added\n`);
      }),
    );
  conn
    .command('show')
    .description('Show the profiles, or one profile')
    .argument('[name]')
    .action(
      act(async (ctx, name?: string) => {
        const all = readProfiles();
        const sel = name ? all.filter((p) => p.MyName === name) : all;
        let text: string;
        if (sel.length === 0) text = name ? `No connection profiles found matching ${name}\n` : 'No connection profiles found!\n';
        else text = 'Connection profiles: \n' + sel.map((p) => `  ${p.MyName}: type=${p.MyType}, connstring='${p.MyConnString}'\n`).join('');
        ctx.emit(sel.map((p) => ({ name: p.MyName, type: p.MyType, connstring: p.MyConnString })), text);
      }),
    );
  conn
    .command('delete')
    .description('Delete a profile')
    .argument('<name>')
    .action(
      act(async (ctx, name: string) => {
        const all = readProfiles();
        if (!all.some((p) => p.MyName === name)) throw new UsageError(`connection profile ${name} not found`);
        writeProfiles(all.filter((p) => p.MyName !== name));
        ctx.emit({ deleted: name }, `Connection profile ${name} successfully deleted.\n`);
      }),
    );

  // ---- os group ------------------------------------------------------------------------------------
  program
    .command('echo')
    .description('Send a text to the device and print its reply')
    .argument('<text>')
    .action(
      act(async (ctx, text: string) => {
        const c = await ctx.client();
        ctx.doing = 'the echo response';
        const r = await c.call(os.echo, { d: text });
        ctx.emit(r, `${r.r}\n`);
      }),
    );
  program
    .command('reset')
    .description('Restart the device')
    .option('-f, --force', 'reset even if the device would refuse (SMP v2 "force")')
    .action(
      act(async (ctx, o: { force?: boolean }) => {
        const c = await ctx.client();
        ctx.doing = 'the reset response';
        await c.call(os.reset, o.force ? { force: true } : {});
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
  program
    .command('taskstat')
    .description('Show per-thread statistics')
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(os.taskstat, {});
        ctx.emit(r, formatTaskstat(r.tasks));
      }),
    );
  program
    .command('mpstat')
    .description('Show memory pool statistics')
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(os.mpstat, {});
        const pools = (r.mpools ?? {}) as Parameters<typeof formatMpstat>[0];
        ctx.emit(r, formatMpstat(pools));
      }),
    );
  program
    .command('datetime')
    .description('Read the device clock, or set it (VALUE = YYYY-MM-DDTHH:MM:SS or "now")')
    .argument('[value]')
    .action(
      act(async (ctx, value?: string) => {
        const c = await ctx.client();
        if (value === undefined) {
          const r = await c.call(os.datetimeGet, {});
          ctx.emit(r, `Datetime(RFC 3339 format): ${r.datetime}\n`);
          return;
        }
        const text = value === 'now' ? localRfc3339(new Date()) : value;
        if (value === 'now') ctx.say(`Setting time to ${text}`);
        await c.call(os.datetimeSet, { datetime: text });
        ctx.emit({ datetime: text }, 'Done\n');
      }),
    );
  program
    .command('params')
    .description("Show the device's SMP buffer size and count")
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(os.mcumgrParams, {});
        ctx.emit(r, `buf_size: ${r.buf_size}\nbuf_count: ${r.buf_count}\n`);
      }),
    );
  program
    .command('info')
    .description('Show OS/application information (FORMAT like uname: s n r v b m p i o a, default s)')
    .argument('[format]')
    .action(
      act(async (ctx, format?: string) => {
        const r = await (await ctx.client()).call(os.info, format ? { format } : {});
        ctx.emit(r, `${r.output}\n`);
      }),
    );

  // ---- image group ---------------------------------------------------------------------------------
  const img = program.command('image').description('Manage firmware images');
  registerLocalImageCommands(img);
  registerDoctor(program, act);
  img
    .command('list')
    .description('List the images on the device')
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(image.state, {});
        ctx.emit(r, formatImageList(r));
      }),
    );
  img
    .command('upload')
    .description('Upload an MCUboot image to the secondary slot')
    .argument('<file>')
    .option('-n, --image <n>', 'image number', '0')
    .option('-e, --erase', 'erase the slot before uploading')
    .option('-u, --upgrade', 'only accept an image newer than the running one')
    .action(
      act(async (ctx, file: string, o: { image: string; erase?: boolean; upgrade?: boolean }) => {
        const info = parseImageFile(file);
        const imageNum = parseUint(o.image, 'image number');
        const result = await uploadImage(ctx, info.bytes, imageNum, Boolean(o.erase), Boolean(o.upgrade));
        ctx.emit(
          { ...result, file, version: info.version, hash: info.hash },
          'Done\n',
        );
      }),
    );
  img
    .command('test')
    .description('Mark an image to be tested on the next reset')
    .argument('<hash>', 'image hash (hex, from `image list`)')
    .action(
      act(async (ctx, hash: string) => {
        const h = parseHash(hash);
        const r = await (await ctx.client()).call(image.setState, { hash: h, confirm: false });
        ctx.emit(r, formatImageList(r));
      }),
    );
  img
    .command('confirm')
    .description('Confirm the running image (no hash), or the image with this hash')
    .argument('[hash]')
    .action(
      act(async (ctx, hash?: string) => {
        const req = hash ? { hash: parseHash(hash), confirm: true } : { confirm: true };
        const r = await (await ctx.client()).call(image.setState, req);
        ctx.emit(r, formatImageList(r));
      }),
    );
  img
    .command('erase')
    .description('Erase a slot (default: the secondary slot)')
    .argument('[slot]')
    .action(
      act(async (ctx, slot?: string) => {
        const req = slot !== undefined ? { slot: parseUint(slot, 'slot') } : {};
        await (await ctx.client()).call(image.erase, req);
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
  img
    .command('slotinfo')
    .description('Show the size of every slot')
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(image.slotInfo, {});
        let text = '';
        for (const i of r.images) {
          text += `image=${i.image}${i.max_image_size !== undefined ? ` max_image_size=${i.max_image_size}` : ''}\n`;
          for (const s of i.slots) {
            text += `  slot=${s.slot}${s.size !== undefined ? ` size=${s.size}` : ''}${s.upload_image_id !== undefined ? ` upload_image_id=${s.upload_image_id}` : ''}${s.rc !== undefined ? ` rc=${s.rc}` : ''}\n`;
          }
        }
        ctx.emit(r, text);
      }),
    );
  img
    .command('upgrade')
    .description('Upload, test, reset, wait for the device, check the new image runs, and confirm it')
    .argument('<file>')
    .option('-n, --image <n>', 'image number', '0')
    .option('--wait <sec>', 'how long to wait for the device after the reset', '60')
    .action(act(async (ctx, file: string, o: { image: string; wait: string }) => upgrade(ctx, file, o)));

  // ---- fs group ------------------------------------------------------------------------------------
  const fsCmd = program.command('fs').description('Transfer files');
  fsCmd
    .command('upload')
    .description('Upload a local file to the device')
    .argument('<local>')
    .argument('<remote>')
    .action(
      act(async (ctx, local: string, remote: string) => {
        const bytes = readLocalFile(local);
        const c = await ctx.client();
        const bar = ctx.progress('upload');
        const offs: number[] = [];
        ctx.doing = 'a file upload response';
        const r = await fileUpload(c, remote, bytes, {
          onProgress: (p) => bar.update(p.done, p.total),
          onResponse: (off) => {
            offs.push(off);
            if (!bar.enabled) ctx.say(String(off));
          },
        }).finally(() => bar.finish());
        ctx.emit({ remote, ...r, offsets: offs }, 'Done\n');
      }),
    );
  fsCmd
    .command('download')
    .description('Download a file from the device')
    .argument('<remote>')
    .argument('<local>')
    .action(
      act(async (ctx, remote: string, local: string) => {
        const c = await ctx.client();
        const bar = ctx.progress('download');
        let total = 0;
        let last = -1;
        ctx.doing = 'a file download response';
        const data = await fileDownload(c, remote, {
          onProgress: (p) => {
            total = p.total;
            bar.update(p.done, p.total);
          },
          onResponse: (off) => {
            last = off;
            if (!bar.enabled) ctx.say(String(off));
          },
        }).finally(() => bar.finish());
        if (!bar.enabled && last !== data.length) ctx.say(String(data.length));
        try {
          writeFileSync(local, data, { mode: 0o660 });
        } catch (err) {
          throw new UsageError(`cannot write ${local}: ${(err as Error).message}`);
        }
        void total;
        ctx.emit({ remote, local, bytes: data.length }, 'Done\n');
      }),
    );
  fsCmd
    .command('stat')
    .description('Show the size of a file on the device')
    .argument('<remote>')
    .action(
      act(async (ctx, remote: string) => {
        const r = await (await ctx.client()).call(fs.status, { name: remote });
        ctx.emit({ name: remote, ...r }, `${remote}: ${r.len} bytes\n`);
      }),
    );
  fsCmd
    .command('hash')
    .description('Hash or checksum of a file on the device')
    .argument('<remote>')
    .option('-t, --type <type>', 'crc32 or sha256 (default: the device default, crc32)')
    .action(
      act(async (ctx, remote: string, o: { type?: string }) => {
        const r = await (await ctx.client()).call(fs.hash, { name: remote, ...(o.type ? { type: o.type } : {}) });
        const out = typeof r.output === 'number' ? r.output.toString(16).padStart(8, '0') : toHex(r.output);
        ctx.emit({ name: remote, ...r, output: out }, `type: ${r.type}\noff: ${r.off ?? 0}\nlen: ${r.len}\noutput: ${out}\n`);
      }),
    );

  // ---- shell ---------------------------------------------------------------------------------------
  program
    .command('shell')
    .description('Run shell commands on the device')
    .command('exec')
    .description('Run a shell command line: shell exec CMD [ARGS...]')
    .argument('<cmd...>')
    .action(
      act(async (ctx, argv: string[]) => {
        const r = await (await ctx.client()).call(shell.exec, { argv });
        const status = r.ret ?? r.rc ?? 0;
        const o = r.o.endsWith('\n') || r.o === '' ? r.o : `${r.o}\n`;
        ctx.emit({ status, output: r.o }, `status=${status}\n${o === '' ? '\n' : o}`);
      }),
    );

  // ---- stat ----------------------------------------------------------------------------------------
  program
    .command('stat')
    .description('`stat list`: list statistics groups; `stat GROUP`: show one group')
    .argument('<group>', '"list" or a group name')
    .action(
      act(async (ctx, group: string) => {
        const c = await ctx.client();
        if (group === 'list') {
          const r = await c.call(stat.list, {});
          ctx.emit(r, formatStatList(r.stat_list));
        } else {
          const r = await c.call(stat.read, { name: group });
          ctx.emit(r, formatStatGroup(r.name, r.fields));
        }
      }),
    );

  // ---- settings ------------------------------------------------------------------------------------
  const st = program.command('settings').description('Read and write settings (Zephyr settings group)');
  st.command('read')
    .argument('<name>')
    .description('Read a setting')
    .action(
      act(async (ctx, name: string) => {
        const r = await (await ctx.client()).call(settings.read, { name });
        const text = printable(r.val);
        ctx.emit({ name, val: r.val, text }, `Value: ${toHex(r.val)}${text !== undefined ? ` ("${text}")` : ''}\n`);
      }),
    );
  st.command('write')
    .argument('<name>')
    .argument('<value>')
    .option('--hex', 'the value is hex bytes (default: UTF-8 text)')
    .description('Write a setting')
    .action(
      act(async (ctx, name: string, value: string, o: { hex?: boolean }) => {
        let val: Uint8Array;
        if (o.hex) {
          try {
            val = fromHex(value);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
        } else val = new TextEncoder().encode(value);
        await (await ctx.client()).call(settings.write, { name, val });
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
  st.command('delete')
    .argument('<name>')
    .description('Delete a setting')
    .action(
      act(async (ctx, name: string) => {
        await (await ctx.client()).call(settings.remove, { name });
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
  for (const [verb, cmdDef, desc] of [
    ['commit', settings.commit, 'Apply the settings written so far'],
    ['load', settings.load, 'Load settings from storage'],
    ['save', settings.save, 'Save settings to storage'],
  ] as const) {
    st.command(verb)
      .description(desc)
      .action(
        act(async (ctx) => {
          await (await ctx.client()).call(cmdDef as typeof settings.commit, {});
          ctx.emit({ ok: true }, 'Done\n');
        }),
      );
  }

  // ---- enum ----------------------------------------------------------------------------------------
  program
    .command('enum')
    .description('List the management groups the device supports')
    .action(
      act(async (ctx) => {
        const c = await ctx.client();
        let groups: { group: number; name?: string; handlers?: number }[];
        try {
          groups = (await c.call(enumeration.details, {})).groups;
        } catch (err) {
          if (!(err instanceof SmpDeviceError)) throw err;
          groups = (await c.call(enumeration.list, {})).groups.map((g) => ({ group: g }));
        }
        const text =
          'Groups:\n' +
          groups
            .map(
              (g) =>
                `  ${String(g.group).padStart(3)} ${g.name ?? GROUP_NAMES[g.group] ?? '?'}${g.handlers !== undefined ? ` (${g.handlers} handlers)` : ''}\n`,
            )
            .join('');
        ctx.emit({ groups }, text);
      }),
    );

  return program;
}

async function uploadImage(ctx: Ctx, bytes: Uint8Array, imageNum: number, erase: boolean, upgrade: boolean) {
  const c = await ctx.client();
  if (erase) {
    ctx.doing = 'the image erase response';
    await c.call(image.erase, {});
  }
  const bar = ctx.progress('upload');
  ctx.doing = 'an image upload response';
  try {
    return await imageUpload(c, bytes, {
      image: imageNum,
      upgrade,
      window: ctx.window,
      onProgress: (p) => {
        if (p.resumedFrom !== undefined && !ctx.json) {
          bar.finish();
          ctx.log(`Resuming the upload at offset ${p.resumedFrom} (the device already has ${formatBytes(p.resumedFrom)} of this image)`);
        }
        bar.update(p.done, p.total);
      },
    });
  } finally {
    bar.finish();
  }
}

function findSlot(s: ImageStateList, imageNum: number, pred: (x: ImageStateList['images'][number]) => boolean) {
  return s.images.find((x) => (x.image ?? 0) === imageNum && pred(x));
}

async function upgrade(ctx: Ctx, file: string, o: { image: string; wait: string }): Promise<void> {
  const info = parseImageFile(file);
  const imageNum = parseUint(o.image, 'image number');
  const waitSec = Number(o.wait);
  if (!Number.isFinite(waitSec) || waitSec <= 0) throw new UsageError(`invalid --wait "${o.wait}"`);
  const steps: { step: string; detail?: unknown }[] = [];
  const step = (name: string, text: string, detail?: unknown): void => {
    steps.push({ step: name, ...(detail !== undefined ? { detail } : {}) });
    ctx.say(text);
  };

  let c = await ctx.client();
  const before = await c.call(image.state, {});
  const running = findSlot(before, imageNum, (x) => Boolean(x.active));
  if (info.hash && running?.hash && toHex(running.hash) === toHex(info.hash)) {
    step('check', `Image ${info.version} (${toHex(info.hash)}) is already running; nothing to do`);
    ctx.emit({ steps, version: info.version, hash: info.hash, upgraded: false });
    return;
  }

  step('upload', `[1/5] Uploading ${file} (version ${info.version}, ${formatBytes(info.bytes.length)})`);
  const up = await uploadImage(ctx, info.bytes, imageNum, false, false);
  steps[steps.length - 1]!.detail = { bytes: up.bytes, resumedFrom: up.resumedFrom };

  const after = await c.call(image.state, {});
  const uploaded = info.hash
    ? findSlot(after, imageNum, (x) => Boolean(x.hash && toHex(x.hash) === toHex(info.hash!)))
    : findSlot(after, imageNum, (x) => !x.active);
  if (!uploaded?.hash) throw new SmpError('the uploaded image does not appear in `image list`; the upload did not take');
  const hash = uploaded.hash;
  step('test', `[2/5] Marking image ${toHex(hash)} for test`);
  ctx.doing = 'the image test response';
  await c.call(image.setState, { hash, confirm: false });

  step('reset', '[3/5] Resetting the device');
  ctx.doing = 'the reset response';
  try {
    await c.call(os.reset, {}, { timeoutMs: Math.min(ctx.timeoutMs, 3000), tries: 1 });
  } catch (err) {
    if (err instanceof SmpDeviceError) throw err;
    // The device may go down before it answers: carry on and wait for it.
  }

  step('wait', `[4/5] Waiting for the device to come back (up to ${waitSec} s)`);
  await sleep(500);
  const deadline = Date.now() + waitSec * 1000;
  let back = false;
  while (Date.now() < deadline) {
    try {
      await c.call(os.echo, { d: 'ping' }, { timeoutMs: 1000, tries: 1 });
      back = true;
      break;
    } catch (err) {
      if (err instanceof SmpTimeoutError || err instanceof SmpDeviceError) continue;
      // The link went away (USB serial re-enumerating): reopen it.
      await sleep(500);
      c = await ctx.reconnect().catch(() => c);
    }
  }
  if (!back) {
    throw new SmpTimeoutError(
      `the device did not answer within ${waitSec} s after the reset (waited for an echo reply); ` +
        'check it booted, then run `mcumgr image list` (raise the wait with --wait SEC)',
    );
  }
  const state = await c.call(image.state, {});
  const active = findSlot(state, imageNum, (x) => Boolean(x.active));
  if (!active?.hash || toHex(active.hash) !== toHex(hash)) {
    ctx.emit({ steps, state, upgraded: false });
    throw new SmpError(
      `after the reset the device runs ${active ? `version ${active.version} (${active.hash ? toHex(active.hash) : 'no hash'})` : 'no known image'}, ` +
        'not the uploaded image: MCUboot did not swap (is the image signed with the right key? is it built for this board?) or reverted it',
    );
  }
  step('confirm', `[5/5] New image ${active.version} is running; confirming it`);
  ctx.doing = 'the image confirm response';
  const final = await c.call(image.setState, { confirm: true });
  if (!ctx.json) process.stdout.write(formatImageList(final));
  ctx.say('Done');
  ctx.emit({ steps, version: active.version, hash, upgraded: true, state: final });
}

/** Global options that must come before the words of some commands. */
function preprocess(argv: string[]): string[] {
  const out = [...argv];
  // `shell exec` takes the rest of the line literally (so `shell exec ls -l` works).
  const si = out.findIndex((a, i) => a === 'shell' && out[i + 1] === 'exec');
  if (si >= 0 && out[si + 2] !== '--') out.splice(si + 2, 0, '--');
  // `fs hash ... -t TYPE`: -t is the global timeout elsewhere.
  const hi = out.findIndex((a, i) => a === 'fs' && out[i + 1] === 'hash');
  if (hi >= 0) for (let i = hi + 2; i < out.length; i++) if (out[i] === '-t') out[i] = '--type';
  // `image sign --version X`: --version is the global version flag elsewhere.
  const ii = out.findIndex((a, i) => a === 'image' && out[i + 1] === 'sign');
  if (ii >= 0) {
    for (let i = ii + 2; i < out.length && out[i] !== '--'; i++) {
      if (out[i] === '--version') out[i] = '--image-version';
      else if (out[i]!.startsWith('--version=')) out[i] = `--image-version=${out[i]!.slice(10)}`;
    }
  }
  return out;
}

function reportError(err: unknown): number {
  const json = currentCtx?.json ?? process.argv.includes('--json');
  const jsonErr = (obj: Record<string, unknown>): void => {
    process.stderr.write(`${JSON.stringify({ error: obj })}\n`);
  };
  if (err instanceof SmpDeviceError) {
    if (json) jsonErr({ kind: 'device', rc: err.rc, group: err.group, code: err.code, message: err.message });
    else {
      process.stdout.write(`Error: ${err.rc}\n`);
      process.stderr.write(`${err.message}\n`);
    }
    return EXIT.DEVICE;
  }
  if (err instanceof SmpTimeoutError) {
    const doing = currentCtx?.doing ?? 'the response';
    const msg = `NMP timeout: ${err.message} (waited for ${doing}). Is the device connected and running SMP? Raise the timeout with -t SECONDS or retry with -r N.`;
    if (json) jsonErr({ kind: 'timeout', message: msg });
    else process.stderr.write(`Error: ${msg}\n`);
    return EXIT.TRANSPORT;
  }
  if (err instanceof TransportError || (err instanceof Error && err.name === 'TransportError')) {
    if (json) jsonErr({ kind: 'transport', message: err.message });
    else process.stderr.write(`Error: ${err.message}\n`);
    return EXIT.TRANSPORT;
  }
  if (err instanceof UsageError) {
    if (json) jsonErr({ kind: 'usage', message: err.message });
    else process.stderr.write(`Error: ${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof ExitError) {
    if (err.message) process.stderr.write(`Error: ${err.message}\n`);
    return err.code;
  }
  if (err instanceof SmpAbortError) {
    process.stderr.write('Error: interrupted\n');
    return 130;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) jsonErr({ kind: err instanceof SmpError ? 'protocol' : 'error', message });
  else process.stderr.write(`Error: ${message}\n`);
  return EXIT.FAILURE;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return EXIT.OK;
  }
  try {
    await program.parseAsync(preprocess(argv), { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      if (err.code === 'commander.help') return EXIT.USAGE;
      if (err.code === 'commander.executeSubCommandAsync') return EXIT.FAILURE;
      return EXIT.USAGE;
    }
    return reportError(err);
  }
}

const code = await main();
process.exitCode = code;
// Don't let a stray socket or timer keep the process alive after the command finished.
setTimeout(() => process.exit(code), 50).unref();
