/** `mcumgr enum`: the management groups the device supports. */
import type { Command } from 'commander';
import { enumeration } from '../../groups/index.js';
import { GROUP_NAMES, SmpDeviceError } from '../../protocol/errors.js';
import { act } from '../ctx.js';

export function registerEnumCommand(program: Command): void {
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
}
