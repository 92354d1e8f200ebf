/** `mcumgr conn add|show|delete`: connection profiles in ~/.mcumgr.cp.json. */
import type { Command } from 'commander';
import { UsageError } from '../connect.js';
import { act } from '../ctx.js';
import { KNOWN_CONNTYPES, profilePath, readProfiles, writeProfiles } from '../profiles.js';

export function registerConnCommands(program: Command): void {
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
        if (!KNOWN_CONNTYPES.includes(type)) throw new UsageError(`Unknown connection type "${type}" (use ${KNOWN_CONNTYPES.join(', ')})`);
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
        else text = `Connection profiles: \n${sel.map((p) => `  ${p.MyName}: type=${p.MyType}, connstring='${p.MyConnString}'\n`).join('')}`;
        ctx.emit(
          sel.map((p) => ({ name: p.MyName, type: p.MyType, connstring: p.MyConnString })),
          text,
        );
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
}
