/** OS group commands: echo, reset, taskstat, mpstat, datetime, params, info. */
import type { Command } from 'commander';
import { os } from '../../groups/index.js';
import { describeMcubootMode } from '../../groups/bootloader-modes.js';
import { UsageError } from '../connect.js';
import { act, queryCommand } from '../ctx.js';
import { formatMpstat, formatTaskstat } from '../format.js';

/** Local time as RFC 3339 with the zone offset, like the Go tool's `time.RFC3339` ("Z" for UTC). */
function localRfc3339(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const east = -d.getTimezoneOffset();
  const zone = east === 0 ? 'Z' : `${east < 0 ? '-' : '+'}${p(Math.floor(Math.abs(east) / 60))}:${p(Math.abs(east) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

/** What Zephyr's os_mgmt parses: date and time, optional fraction, optional zone (which it ignores). */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/;

/** `datetime [get]` reads; `datetime now`, `datetime set [now]` and `datetime [set] VALUE` write. */
function datetimeRequest(words: string[]): { set?: string; now?: boolean } {
  const [first, second, ...rest] = words;
  if (first === undefined || (first === 'get' && second === undefined)) return {};
  const value = first === 'set' ? second : second === undefined ? first : undefined;
  if (rest.length > 0 || (first !== 'set' && second !== undefined))
    throw new UsageError(`datetime takes one VALUE such as 2025-06-01T12:00:00, got "${words.join(' ')}"`);
  if (value === undefined || value === 'now') return { now: true };
  if (!DATETIME.test(value)) {
    throw new UsageError(`invalid datetime "${value}": expected YYYY-MM-DDTHH:MM:SS, optionally with .ffffff and Z or +HH:MM (or "now")`);
  }
  return { set: value };
}

/** `bootloader` (Zephyr's BOOT_MODE_TYPE_BOOTLOADER, 1) or a number 0..255 (Zephyr's retention boot mode byte). */
function parseBootMode(text: string): number {
  if (text === 'bootloader') return 1;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 255) throw new UsageError(`invalid --boot-mode "${text}" (bootloader, or a number 0..255)`);
  return n;
}

export function registerOsCommands(program: Command): void {
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
    .option('--boot-mode <mode>', 'what the bootloader should do after the reset: "bootloader" (1: MCUboot serial recovery) or a number')
    .option('--no-wait', "return as soon as the device answers the reset (the Go tool's behaviour), not once it is back")
    .action(
      act(async (ctx, o: { force?: boolean; bootMode?: string; wait: boolean }) => {
        const bootMode = o.bootMode === undefined ? undefined : parseBootMode(o.bootMode);
        const c = await ctx.client();
        ctx.doing = 'the reset response';
        await c.call(os.reset, { ...(o.force ? { force: true } : {}), ...(bootMode !== undefined ? { boot_mode: bootMode } : {}) });
        if (o.wait) await ctx.waitForReboot();
        ctx.emit({ ok: true, waited: o.wait, ...(bootMode !== undefined ? { bootMode } : {}) }, 'Done\n');
      }),
    );
  program
    .command('bootloader')
    .description('Show the bootloader (`bootloader`), or its mode (`bootloader mode`), or any other query the bootloader answers')
    .argument('[query]')
    .action(
      act(async (ctx, query?: string) => {
        const c = await ctx.client();
        const r = await c.call(os.bootloaderInfo, query !== undefined ? { query } : {});
        const lines: string[] = [];
        if (r.bootloader !== undefined) lines.push(`bootloader: ${r.bootloader}`);
        if (r.mode !== undefined) lines.push(`mode: ${describeMcubootMode(r.mode)}`);
        if (query === 'mode') lines.push(`no-downgrade: ${r['no-downgrade'] ? 'yes (images older than the running one are refused)' : 'no'}`);
        ctx.emit(r.mode !== undefined ? { ...r, modeName: describeMcubootMode(r.mode) } : r, `${lines.join('\n')}\n`);
      }),
    );
  queryCommand(program, 'taskstat', 'Show per-thread statistics', os.taskstat, (r) => formatTaskstat(r.tasks));
  queryCommand(program, 'mpstat', 'Show memory pool statistics', os.mpstat, (r) => formatMpstat((r.mpools ?? {}) as Parameters<typeof formatMpstat>[0]));
  program
    .command('datetime')
    .description('Read the device clock, or set it: datetime [get] | datetime [set] VALUE (YYYY-MM-DDTHH:MM:SS[+HH:MM]) | datetime now | datetime set')
    .argument('[words...]')
    .action(
      act(async (ctx, words: string[]) => {
        const req = datetimeRequest(words);
        const c = await ctx.client();
        if (!req.now && req.set === undefined) {
          const r = await c.call(os.datetimeGet, {});
          ctx.emit(r, `Datetime(RFC 3339 format): ${r.datetime}\n`);
          return;
        }
        const text = req.set ?? localRfc3339(new Date());
        if (req.now) ctx.say(`Setting time to ${text}`);
        await c.call(os.datetimeSet, { datetime: text });
        ctx.emit({ datetime: text }, 'Done\n');
      }),
    );
  queryCommand(
    program,
    'params',
    "Show the device's SMP buffer size and count",
    os.mcumgrParams,
    (r) => `buf_size: ${r.buf_size}\nbuf_count: ${r.buf_count}\n`,
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
}
