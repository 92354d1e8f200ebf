/** `mcumgr stat list` and `mcumgr stat GROUP`: statistics groups. */
import type { Command } from 'commander';
import { stat } from '../../groups/index.js';
import { act } from '../ctx.js';
import { formatStatGroup, formatStatList } from '../format.js';

export function registerStatCommands(program: Command): void {
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
}
