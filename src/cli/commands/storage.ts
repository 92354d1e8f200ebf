/** Zephyr basic group (63): `mcumgr storage erase`. */
import type { Command } from 'commander';
import { basic } from '../../groups/index.js';
import { act } from '../ctx.js';

export function registerStorageCommands(program: Command): void {
  program
    .command('storage')
    .description("The device's storage partition (Zephyr basic group)")
    .command('erase')
    .description('Erase the storage partition (settings, files); reset the device afterwards')
    .action(
      act(async (ctx) => {
        await (await ctx.client()).call(basic.eraseStorage, {});
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
}
