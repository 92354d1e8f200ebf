/**
 * `mcumgr-sim`: runs a virtual Zephyr smp_svr device with MCUboot.
 *   mcumgr-sim [--udp HOST:PORT] [--serial pty|PATH] [--framing console|raw] [--recovery] [--state DIR] [--config FILE]
 *              [--link PROFILE[,key=value...]]
 * Prints `udp: HOST:PORT` and/or `pty: /dev/pts/N` once ready; exits 0 on SIGINT/SIGTERM.
 * `--serial PATH` (e.g. /dev/ttyACM0) also links PATH to the pseudo-terminal, so commands written for
 * a real board's port run unchanged; the link is removed on exit. `--link` makes every transport behave as
 * an emulated link (see link/emulate.ts), e.g. `--link uart-115200` or `--link udp-20ms,loss=0.05`.
 * `--recovery` starts the device in MCUboot's serial recovery (recovery/); `--framing raw` puts bare SMP packets on
 * the serial line (Zephyr's raw UART transport, MCUboot's raw recovery protocol).
 * `--usb VID:PID[,serial=SN]` serves a USB CDC-ACM port that re-enumerates under a new pty on every reset; the
 * port list a host would see goes to `--ports-file` (see usb-cdc.ts).
 * `MCUMGR_SIM_POWER_CUT=N` (for tests) kills the process with SIGKILL before the bootloader's Nth flash change
 * at a reset, as a power cut in the middle of a swap would; the next start finishes the swap.
 */
import { lstatSync, symlinkSync, unlinkSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ResetEvent } from './encrypted-image.js';
import { loadSimConfig } from './config.js';
import { emulateLink, parseLinkSpec, type LinkEmulation } from './link/emulate.js';
import { VirtualDevice } from './device.js';
import { UdpSmpServer } from './udp-server.js';
import { parseUsbSpec, UsbCdcPort, type UsbIdentity } from './usb-cdc.js';
import { TransportError, type SmpTransport } from '../transport/transport.js';

interface SimArgs {
  udp?: string;
  serial?: string;
  state: string;
  config?: string;
  link?: LinkEmulation;
  recovery: boolean;
  rawFraming: boolean;
  usb?: UsbIdentity;
  portsFile?: string;
}

function usage(): never {
  process.stderr.write(
    'usage: mcumgr-sim [--udp HOST:PORT] [--serial pty|PATH] [--framing console|raw] [--recovery] [--state DIR] [--config FILE]\n' +
      '                  [--link PROFILE[,key=value...]] [--usb VID:PID[,serial=SN][,manufacturer=NAME] [--ports-file FILE]]\n',
  );
  process.exit(2);
}

export function parseSimArgs(argv: string[]): SimArgs {
  const args: SimArgs = { state: join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'mcumgr-sim'), recovery: false, rawFraming: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage();
      return v;
    };
    if (flag === '--udp') args.udp = value();
    else if (flag === '--serial') args.serial = value();
    else if (flag === '--state') args.state = value();
    else if (flag === '--config') args.config = value();
    else if (flag === '--link') args.link = parseLinkSpec(value());
    else if (flag === '--recovery') args.recovery = true;
    else if (flag === '--framing') {
      const framing = value();
      if (framing !== 'console' && framing !== 'raw') usage();
      args.rawFraming = framing === 'raw';
    } else if (flag === '--usb') args.usb = parseUsbSpec(value());
    else if (flag === '--ports-file') args.portsFile = value();
    else if (flag === '-h' || flag === '--help') usage();
    else usage();
  }
  if (args.portsFile && !args.usb) usage();
  if (!args.udp && !args.serial && !args.usb) args.udp = '127.0.0.1:1337';
  return args;
}

function splitHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  if (m) return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: Number(text) };
  return { host: text, port: 1337 };
}

/** Points `link` at the pseudo-terminal; replaces only a symbolic link (a stale one from an earlier run), never a file. */
function linkSerialPort(link: string, ptyPath: string): void {
  let existing: Stats | undefined;
  try {
    existing = lstatSync(link);
  } catch {
    existing = undefined;
  }
  if (existing && !existing.isSymbolicLink()) throw new Error(`${link} already exists and is not a symbolic link; choose another --serial path`);
  try {
    if (existing) unlinkSync(link);
    symlinkSync(ptyPath, link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' ? ' (creating a port under /dev needs root)' : '';
    throw new Error(`cannot create ${link} -> ${ptyPath}: ${(err as Error).message}${hint}`);
  }
}

function cutPowerInBoot(device: VirtualDevice, at: string | undefined): void {
  if (at === undefined) return;
  let changes = 0;
  device.flash.beforeChange = () => {
    // While the device is down, only the bootloader changes flash.
    if (device.server.offline && ++changes >= Number(at)) process.kill(process.pid, 'SIGKILL');
  };
}

async function main(): Promise<void> {
  const args = parseSimArgs(process.argv.slice(2));
  const config = args.config ? loadSimConfig(args.config) : undefined;
  const device = await VirtualDevice.create({ stateDir: args.state, config, recovery: args.recovery });
  cutPowerInBoot(device, process.env.MCUMGR_SIM_POWER_CUT);
  const link = args.link;
  const wrap = link ? (raw: SmpTransport): SmpTransport => emulateLink(raw, link, device.config) : (raw: SmpTransport) => raw;
  const closers: (() => Promise<void> | void)[] = [];
  if (args.udp) {
    const { host, port } = splitHostPort(args.udp);
    const udp = await UdpSmpServer.listen(device.server, { host, port, wrap });
    closers.push(() => udp.close());
    process.stdout.write(`udp: ${udp.address}\n`);
  }
  if (args.serial) {
    const { openPty } = await import('../node/pty.js');
    const { serveSerialLine } = await import('./recovery/serial-port.js');
    const pty = openPty();
    const { transport } = serveSerialLine(device, pty, { raw: args.rawFraming, wrap });
    closers.push(() => transport.close());
    if (args.serial !== 'pty') {
      const link = args.serial;
      linkSerialPort(link, pty.path);
      closers.push(() => unlinkSync(link));
      process.stdout.write(`serial: ${link}\n`);
    }
    process.stdout.write(`pty: ${pty.path}\n`);
  }
  if (args.usb) {
    const { openPty } = await import('../node/pty.js');
    const usb = new UsbCdcPort(device, args.usb, args.portsFile, wrap, (path) => process.stdout.write(`pty: ${path}\n`), openPty);
    usb.enumerate();
    closers.push(() => usb.close());
  }
  if (device.recovery?.active) process.stdout.write('mode: MCUboot serial recovery\n');
  const describe = (events: ResetEvent[]) =>
    events
      .map(
        (e) =>
          `image ${e.image} ${e.action}${e.slot !== undefined ? ` (slot ${e.slot})` : ''}${e.resumed ? ' (resumed after a power cut)' : ''}${e.reason ? ` (${e.reason})` : ''}`,
      )
      .join(', ');
  if (device.bootEvents.some((e) => e.action !== 'none')) process.stderr.write(`boot: ${describe(device.bootEvents)}\n`);
  device.onReset((events) => {
    const mode = device.recovery?.active ? ' (MCUboot serial recovery)' : '';
    process.stderr.write(`reset: ${describe(events)}${mode}\n`);
  });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
    await device.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`mcumgr-sim: ${(err as Error).message}\n`);
  // A missing optional package (node-pty for --serial) is a transport failure, as in mcumgr.
  process.exit(err instanceof TransportError ? 3 : 1);
});
