/** `mcumgr ble scan`: BLE devices that advertise the SMP service (needs @stoprocent/noble). */
import type { Command } from 'commander';
import { UsageError } from '../connect.js';
import { act } from '../ctx.js';

export function registerBleCommands(program: Command): void {
  program
    .command('ble')
    .description('Bluetooth LE (needs @stoprocent/noble)')
    .command('scan')
    .description('List the devices that advertise the SMP service: use one with --conntype ble --connstring peer_name=NAME or peer_id=ADDRESS')
    .option('--duration <sec>', 'how long to scan', '5')
    .option('--ctlr <name>', 'HCI controller on Linux, e.g. hci1')
    .action(
      act(async (ctx, o: { duration: string; ctlr?: string }) => {
        const seconds = Number(o.duration);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`invalid --duration "${o.duration}" (seconds)`);
        const ctlr = o.ctlr === undefined ? undefined : /^(?:hci)?(\d+)$/.exec(o.ctlr);
        if (ctlr === null) throw new UsageError(`invalid --ctlr "${o.ctlr}" (an HCI controller such as hci0)`);
        const { scanSmpDevices } = await import('../../node/ble-noble.js');
        const devices = await scanSmpDevices({
          durationMs: Math.round(seconds * 1000),
          timeoutMs: ctx.timeoutMs,
          ...(ctlr ? { hciDevice: Number(ctlr[1]) } : {}),
        });
        const text =
          devices.length === 0
            ? `No device advertising the SMP service found in ${seconds} s\n`
            : devices.map((d) => `${(d.address ?? d.id).padEnd(17)}  ${d.rssi !== undefined ? `${d.rssi} dBm` : '-'}  ${d.name ?? '(no name)'}\n`).join('');
        ctx.emit({ devices }, text);
      }),
    );
}
