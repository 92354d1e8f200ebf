/** `mcumgr shell exec`: runs a command line in the device's shell. */
import type { Command } from 'commander';
import { shell } from '../../groups/index.js';
import { act } from '../ctx.js';

export function registerShellCommands(program: Command): void {
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
}
