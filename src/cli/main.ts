/**
 * `mcumgr`: a command-line SMP client compatible with the Go mcumgr tool's flags, profiles and output.
 * Exit status: 0 success, 2 device error, 3 timeout/transport error (and internal errors), 64 usage error.
 */
import { Command, CommanderError, Option } from 'commander';
import { preprocess } from './args.js';
import { registerBleCommands } from './commands/ble.js';
import { registerConnCommands } from './commands/conn.js';
import { registerDoctor } from './doctor.js';
import { registerEnumCommand } from './commands/enum.js';
import { registerFsCommands } from './commands/fs.js';
import { registerImageCommands } from './commands/image.js';
import { registerOsCommands } from './commands/os.js';
import { registerPortsCommand } from './commands/ports.js';
import { registerSettingsCommands } from './commands/settings.js';
import { registerShellCommands } from './commands/shell.js';
import { registerStatCommands } from './commands/stat.js';
import { registerStorageCommands } from './commands/storage.js';
import { DEFAULT_MAX_WINDOW } from '../client/params.js';
import { EXIT } from './ctx.js';
import { KNOWN_CONNTYPES } from './profiles.js';
import { reportError } from './report-error.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('mcumgr')
    .description('Manage Zephyr/MCUboot devices over SMP (MCUmgr): images, files, shell, stats, settings')
    .version('0.1.0', '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .addOption(new Option('--conntype <type>', 'connection type').choices(KNOWN_CONNTYPES))
    .option(
      '--connstring <s>',
      'connection string: serial "dev=/dev/ttyACM0,baud=115200" or "usb=VID:PID[,serial=SN]" (also mtu=, dtr=, rts=), udp "host:port", ble "peer_name=NAME" or "peer_id=ADDRESS" (also ctlr_name=hci0, conn_timeout=SEC)',
    )
    .option('--connextra <s>', 'appended to the connstring with a ","')
    .option('--name <name>', "BLE: the device's advertised name (overrides peer_name)")
    .option('-c, --conn <name>', 'connection profile from ~/.mcumgr.cp.json (see `mcumgr conn`)')
    .option('-t, --timeout <sec>', 'response timeout in seconds', '10')
    .option('-r, --tries <n>', 'attempts per request (a retry resends the same packet)', '1')
    .addOption(
      new Option('-l, --loglevel <level>', 'log level; debug prints every SMP packet in hex on stderr')
        .choices(['critical', 'error', 'warn', 'info', 'debug'])
        .default('info'),
    )
    .option(
      '-w, --maxwinsize <n>',
      `chunks in flight at most (image upload, fs upload, fs download); default ${DEFAULT_MAX_WINDOW}, on serial the device's buffer count`,
    )
    .option('--json', 'print the result as one JSON document (byte strings as hex)')
    .option('--jsonl', 'print one JSON object per line: start, progress, retry, reconnect events, and the result last')
    .option('--smp-v1', 'send SMP v1 headers, like the Go tool (default: SMP v2)')
    .showHelpAfterError('(run `mcumgr --help` for usage)');

  registerConnCommands(program);
  registerOsCommands(program);
  registerImageCommands(program);
  registerFsCommands(program);
  registerShellCommands(program);
  registerStatCommands(program);
  registerSettingsCommands(program);
  registerEnumCommand(program);
  registerStorageCommands(program);
  registerPortsCommand(program);
  registerBleCommands(program);
  registerDoctor(program);
  return program;
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
      return EXIT.USAGE;
    }
    return reportError(err);
  }
}
