/** Settings group commands: read, write, delete, commit, load, save. */
import type { Command } from 'commander';
import { settings } from '../../groups/index.js';
import { UsageError } from '../connect.js';
import { act } from '../ctx.js';
import { fromHex, toHex } from '../format.js';

function printable(bytes: Uint8Array): string | undefined {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[\x20-\x7e\t\r\n\u00a0-\uffff]*$/.test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

export function registerSettingsCommands(program: Command): void {
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
}
