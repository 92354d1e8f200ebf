import { shell } from '../../groups/shell.js';
import { GroupError } from '../errors.js';
import type { VirtualDevice } from '../device.js';

const G = 9;
const CMD_BUFF_SIZE = 256;

export interface ShellResult {
  /** Text printed (without the leading/trailing CRLF the dummy backend adds). */
  out: string;
  ret: number;
}

export type ShellCommand = (args: string[], dev: VirtualDevice) => ShellResult;

const KERNEL_HELP =
  'kernel - Kernel commands\r\nSubcommands:\r\n  cycles     :Kernel cycles.\r\n  reboot     :Reboot.\r\n' +
  '  stacks     :List threads stack usage.\r\n  threads    :List kernel threads.\r\n  uptime     :Kernel uptime.\r\n' +
  '  version    :Kernel version.\r\n  sleep      :ms\r\n  log-level  :<module name> <severity (0-4)>';

export function defaultShellCommands(): Map<string, ShellCommand> {
  const cmds = new Map<string, ShellCommand>();
  cmds.set('kernel', (args, dev) => {
    switch (args[0]) {
      case 'version':
        return { out: `Zephyr version ${dev.config.info.version}`, ret: 0 };
      case 'uptime':
        return { out: `Uptime: ${Math.floor(dev.uptimeMs())} ms`, ret: 0 };
      case 'cycles':
        return { out: `${Math.floor(dev.uptimeMs() * 1000) >>> 0} cycles`, ret: 0 };
      case 'reboot':
        dev.scheduleReset();
        return { out: '', ret: 0 };
      default:
        return { out: KERNEL_HELP, ret: 1 };
    }
  });
  cmds.set('fs', (args, dev) => {
    const [sub, path] = args;
    try {
      if (sub === 'ls') return { out: dev.fsList(path ?? dev.config.fs.mounts[0] ?? '/').join('\r\n'), ret: 0 };
      if (sub === 'read' && path) return { out: Buffer.from(dev.fsRead(path)).toString('latin1').replace(/\n/g, '\r\n'), ret: 0 };
    } catch (err) {
      return { out: `\u001b[1;31m${(err as Error).message}\r\n\u001b[m`.replace(/\r\n\u001b\[m$/, ''), ret: -2 };
    }
    return { out: 'fs - File system commands\r\nSubcommands:\r\n  ls    :List files in current directory\r\n  read  :Read from file', ret: 1 };
  });
  return cmds;
}

export function registerShell(dev: VirtualDevice): void {
  const { server } = dev;
  server.setGroupName(G, 'shell mgmt');
  server.register(shell.exec, (req) => {
    if (req.argv.length === 0) throw new GroupError(G, 3);
    const line = req.argv.join(' ');
    if (line.length >= CMD_BUFF_SIZE) throw new GroupError(G, 2);
    const [name, ...args] = req.argv;
    const cmd = dev.shellCommands.get(name!);
    if (!cmd) return { o: `\r\n\u001b[1;31m${name}: command not found\r\n\u001b[m`, ret: -8 };
    const r = cmd(args, dev);
    return { o: `\r\n${r.out}${r.out ? '\r\n' : ''}`, ret: r.ret };
  });
}
