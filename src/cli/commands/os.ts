/** OS group commands: echo, reset, taskstat, mpstat, datetime, params, info. */
import type { Command } from 'commander';
import { os } from '../../groups/index.js';
import { act } from '../ctx.js';
import { formatMpstat, formatTaskstat } from '../format.js';

function localRfc3339(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
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
}
