/** `mcumgr ports [--probe]`: the serial ports of this computer, with their USB identity; `--probe` asks each for an SMP echo. */
import type { Command } from 'commander';
import { SmpClient } from '../../client/client.js';
import { os } from '../../groups/index.js';
import { act } from '../ctx.js';
import { formatUsbId, preferredPortPath, systemPorts, type PortInfo } from '../ports.js';

/** An echo gets this long per port at most: a port without SMP behind it answers nothing. */
const PROBE_TIMEOUT_MS = 2000;

type Probed = PortInfo & { smp?: boolean; error?: string };

async function probe(port: PortInfo, timeoutMs: number): Promise<Probed> {
  const { SerialTransport } = await import('../../node/serial.js');
  let transport;
  try {
    transport = await SerialTransport.open({ path: preferredPortPath(port.path) });
  } catch (err) {
    return { ...port, smp: false, error: (err as Error).message };
  }
  const client = new SmpClient(transport, { timeoutMs });
  try {
    const r = await client.call(os.echo, { d: 'mcumgr ports' });
    return { ...port, smp: r.r === 'mcumgr ports' };
  } catch {
    return { ...port, smp: false };
  } finally {
    await client.close().catch(() => undefined);
  }
}

export function registerPortsCommand(program: Command): void {
  program
    .command('ports')
    .description('List serial ports with their USB VID:PID, manufacturer and serial number (use with --connstring usb=VID:PID)')
    .option('--probe', 'send an SMP echo to each port and mark those that answer')
    .action(
      act(async (ctx, o: { probe?: boolean }) => {
        const ports = await systemPorts();
        const timeoutMs = Math.min(ctx.timeoutMs, PROBE_TIMEOUT_MS);
        const listed: Probed[] = o.probe ? await Promise.all(ports.map((p) => probe(p, timeoutMs))) : ports;
        const rows = listed.map((p) => {
          const cells = [p.path, formatUsbId(p), p.manufacturer ?? '-', p.serialNumber ?? '-'];
          if (o.probe) cells.push(p.smp ? 'SMP' : p.error ? `(${p.error})` : '-');
          return cells;
        });
        const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
        const text =
          rows.length === 0
            ? 'No serial ports found\n'
            : rows.map((r) => `${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')}\n`).join('');
        ctx.emit({ ports: listed }, text);
      }),
    );
}
