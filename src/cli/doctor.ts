/**
 * `mcumgr doctor`: reads the device's SMP buffer parameters, measures the round trip and the throughput with
 * echoes (nothing on the device changes), and says which device options (Zephyr Kconfig names) would make
 * transfers faster or safer.
 */
import type { Command } from 'commander';
import type { SmpClient } from '../client/client.js';
import { DEFAULT_BUF_SIZE, isMessageTooLarge, maxPacketFor, readBufferParams } from '../client/params.js';
import { os } from '../groups/os.js';
import { inSerialRecovery, MCUBOOT_RECEIVE_SIZE } from '../client/bootloader.js';
import { SmpDeviceError, SmpShapeError, SmpTimeoutError } from '../protocol/errors.js';
import { resolveConnection } from './connect.js';
import { act } from './ctx.js';

export interface Recommendation {
  option: string;
  why: string;
}

export interface DoctorReport {
  transport: string;
  /** The device's `os.params`, or undefined when it does not answer them. */
  params?: { bufSize: number; bufCount: number };
  /** Largest request the client will send (device buffer, transport MTU and framing). */
  maxPacket: number;
  /** Median round trip of short echoes, in ms. */
  rttMs: number;
  /**
   * Largest echo text the device answered (`dropped`: larger ones went unanswered), and the echo throughput
   * (request and response text) with `inFlight` echoes.
   */
  echo: { largest: number; dropped: boolean; bytesPerSecond: number; inFlight: number };
  /** Stack of the SMP work queue thread, when task statistics report it. */
  smpStack?: { size: number; used: number };
  /** The device is MCUboot in serial recovery: its options are MCUboot's, and its echo replies are capped. */
  serialRecovery?: boolean;
  recommendations: Recommendation[];
}

/** Header, map, key "d" and the longest text-string head of an echo packet. */
const ECHO_OVERHEAD = 8 + 1 + 2 + 3;
const RTT_ECHOES = 5;
const BURST = 8;

async function echoTime(client: SmpClient, text: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  const r = await client.call(os.echo, { d: text }, { timeoutMs, tries: 1 });
  if (r.r !== text) throw new SmpShapeError('the device echoed something else');
  return performance.now() - start;
}

/**
 * The largest echo the device answers, from `size` down: a device drops a request its buffer cannot hold
 * (silence), and refuses one whose answer would not fit (MGMT_ERR_EMSGSIZE).
 */
async function largestEcho(client: SmpClient, size: number, timeoutMs: number): Promise<{ largest: number; dropped: boolean }> {
  let dropped = false;
  for (let n = size; n >= 16; ) {
    try {
      await echoTime(client, 'x'.repeat(n), timeoutMs);
      return { largest: n, dropped };
    } catch (err) {
      if (err instanceof SmpTimeoutError) {
        dropped = true;
        n = Math.floor(n * 0.75);
      } else if (isMessageTooLarge(err)) n -= 4;
      else throw err;
    }
  }
  return { largest: 0, dropped };
}

/** Echo text bytes per second, both directions, with `inFlight` echoes of `size` kept in flight. */
async function echoThroughput(client: SmpClient, size: number, inFlight: number, timeoutMs: number): Promise<number> {
  const text = 'y'.repeat(size);
  let next = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (next++ < BURST) await echoTime(client, text, timeoutMs);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (2 * BURST * size) / ((performance.now() - start) / 1000);
}

async function smpStack(client: SmpClient, timeoutMs: number): Promise<DoctorReport['smpStack']> {
  try {
    const { tasks } = await client.call(os.taskstat, {}, { timeoutMs, tries: 1 });
    for (const [name, t] of Object.entries(tasks)) {
      if (/mcumgr|smp/i.test(name) && t.stksiz !== undefined && t.stkuse !== undefined) return { size: t.stksiz, used: t.stkuse };
    }
  } catch (err) {
    if (!(err instanceof SmpDeviceError || err instanceof SmpTimeoutError)) throw err;
  }
  return undefined;
}

/** Buffer size worth having per transport: a BLE packet reassembled from ATT writes, a UDP datagram, a serial packet. */
function goodBufSize(transport: string): number {
  return transport === 'ble' ? 2475 : transport === 'udp' ? 2048 : 1024;
}

export function recommend(r: Omit<DoctorReport, 'recommendations'>): Recommendation[] {
  const out: Recommendation[] = [];
  const bufSize = r.params?.bufSize ?? DEFAULT_BUF_SIZE;
  if (!r.params) {
    out.push({
      option: 'CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS=y',
      why: `the device does not report its SMP buffers, so clients must assume ${DEFAULT_BUF_SIZE}-byte requests and one chunk in flight`,
    });
  }
  const good = goodBufSize(r.transport);
  // Sizes and counts are only worth suggesting when the device told us what it has.
  if (r.params && bufSize < good) {
    out.push({
      option: `CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE=${good}`,
      why: `larger buffers carry more data per request (now ${bufSize} bytes): fewer round trips and less header overhead per byte`,
    });
    if (r.transport === 'serial') {
      out.push({ option: `CONFIG_UART_MCUMGR_RX_BUF_SIZE=${good}`, why: 'the UART receive buffer must hold a whole SMP frame of the new size' });
    }
  }
  if (r.echo.dropped) {
    out.push({
      option: 'CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE',
      why:
        `larger echoes went unanswered, ${r.echo.largest + ECHO_OVERHEAD}-byte requests were answered: the device drops ` +
        `packets it cannot hold; make its buffer match what it reports, or give the connection a smaller mtu`,
    });
  }
  const count = r.params?.bufCount ?? 1;
  // Requests needed in flight to keep the link busy for a round trip (bandwidth × delay / request size).
  const needed = Math.ceil(((r.echo.bytesPerSecond / 2) * (r.rttMs / 1000)) / bufSize) + 1;
  const target = Math.max(4, Math.min(8, needed));
  if (r.params && count < target) {
    out.push({
      option: `CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT=${target}`,
      why:
        `clients that size their window from the buffer count keep ${count} request(s) in flight, while ${target} keep the ` +
        `link busy over a round trip of ${r.rttMs.toFixed(1)} ms (a buffer is held only while the device handles its ` +
        `request, so mcumgr -w ${target} gets there with fewer buffers when requests do not arrive in bursts)`,
    });
  }
  if (r.smpStack && r.smpStack.used > 0.75 * r.smpStack.size) {
    // Zephyr reports stack sizes in 4-byte words.
    out.push({
      option: `CONFIG_MCUMGR_TRANSPORT_WORKQUEUE_STACK_SIZE=${2 * 4 * r.smpStack.size}`,
      why: `the SMP work queue has used ${r.smpStack.used} of its ${r.smpStack.size} stack words; image and file commands with larger buffers need more`,
    });
  } else if (!r.smpStack && bufSize >= 2048) {
    out.push({
      option: 'CONFIG_MCUMGR_TRANSPORT_WORKQUEUE_STACK_SIZE=4096',
      why: 'the device does not report stack use (CONFIG_MCUMGR_GRP_OS_TASKSTAT); with buffers of 2 KiB and more, 4096 bytes is a safe size',
    });
  }
  out.push({
    option: 'CONFIG_IMG_ERASE_PROGRESSIVELY=y',
    why: 'without it the first upload chunk erases the whole image slot, which takes seconds on large slots and may time out; this cannot be checked without an upload',
  });
  if (r.transport === 'ble') {
    out.push(
      {
        option: 'CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY=y',
        why: 'lets one SMP request span several ATT writes, so requests fill the SMP buffer instead of one ATT MTU',
      },
      { option: 'CONFIG_BT_L2CAP_TX_MTU=498', why: 'a larger ATT MTU carries more SMP bytes per write and notification' },
      { option: 'CONFIG_BT_BUF_ACL_RX_SIZE=502', why: 'the ACL receive buffers must hold an L2CAP PDU of the larger MTU' },
      { option: 'CONFIG_BT_CTLR_DATA_LENGTH_MAX=251', why: 'data length extension: 251-byte link-layer packets instead of 27' },
    );
  }
  return out;
}

/**
 * MCUboot's serial recovery answers echoes only up to its ~200-byte reply buffer and has no application options:
 * the round trip, and MCUboot's own options (boot_serial.c).
 */
async function diagnoseRecovery(client: SmpClient, transport: string, timeoutMs: number, params: DoctorReport['params']): Promise<DoctorReport> {
  const rtts: number[] = [];
  for (let i = 0; i < RTT_ECHOES; i++) rtts.push(await echoTime(client, 'doctor', timeoutMs));
  rtts.sort((a, b) => a - b);
  const maxPacket = Math.min(client.transport.mtu, (params?.bufSize ?? MCUBOOT_RECEIVE_SIZE) - client.transport.framingOverhead);
  const recommendations: Recommendation[] = [
    {
      option: 'CONFIG_BOOT_ERASE_PROGRESSIVELY=y (MCUboot)',
      why: 'without it the first upload chunk erases the whole slot before MCUboot answers, which takes seconds on large slots',
    },
  ];
  if (!params) {
    recommendations.push({
      option: `CONFIG_BOOT_SERIAL_MAX_RECEIVE_SIZE (MCUboot, default ${MCUBOOT_RECEIVE_SIZE})`,
      why: `this MCUboot does not report its receive buffer, so requests are sized for the default; a larger buffer (and a client mtu to match) means fewer chunks`,
    });
  }
  return {
    transport,
    ...(params ? { params } : {}),
    maxPacket,
    rttMs: rtts[Math.floor(rtts.length / 2)]!,
    echo: { largest: 0, dropped: false, bytesPerSecond: 0, inFlight: 1 },
    serialRecovery: true,
    recommendations,
  };
}

export async function diagnose(client: SmpClient, transport: string, timeoutMs: number): Promise<DoctorReport> {
  const params = await readBufferParams(client);
  if (await inSerialRecovery(client, timeoutMs)) return diagnoseRecovery(client, transport, timeoutMs, params);
  const maxPacket = maxPacketFor(client, params?.bufSize ?? DEFAULT_BUF_SIZE);
  const rtts: number[] = [];
  for (let i = 0; i < RTT_ECHOES; i++) rtts.push(await echoTime(client, 'doctor', timeoutMs));
  rtts.sort((a, b) => a - b);
  const rttMs = rtts[Math.floor(rtts.length / 2)]!;
  const probeTimeout = Math.min(timeoutMs, Math.max(1000, 10 * rttMs));
  const { largest, dropped } = await largestEcho(client, maxPacket - ECHO_OVERHEAD, probeTimeout);
  const inFlight = params?.bufCount ?? 1;
  const bytesPerSecond = largest > 0 ? await echoThroughput(client, largest, inFlight, probeTimeout) : 0;
  const base = { transport, ...(params ? { params } : {}), maxPacket, rttMs, echo: { largest, dropped, bytesPerSecond, inFlight } };
  const stack = await smpStack(client, probeTimeout);
  const report = { ...base, ...(stack ? { smpStack: stack } : {}) };
  return { ...report, recommendations: recommend(report) };
}

export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  if (r.serialRecovery) lines.push('Device: MCUboot in serial recovery (one request at a time; application options do not apply)');
  if (r.serialRecovery && !r.params) lines.push(`Receive buffer: not reported; assuming MCUboot's default ${MCUBOOT_RECEIVE_SIZE} bytes`);
  else
    lines.push(
      r.params
        ? `SMP buffers: ${r.params.bufCount} × ${r.params.bufSize} bytes (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT × _SIZE)`
        : `SMP buffers: not reported (os params unsupported); assuming ${DEFAULT_BUF_SIZE} bytes`,
    );
  lines.push(`Largest request: ${r.maxPacket} bytes${r.serialRecovery ? '' : `; largest echo answered: ${r.echo.largest} bytes of text`}`);
  lines.push(`Round trip: ${r.rttMs.toFixed(1)} ms (median of ${RTT_ECHOES} echoes)`);
  if (!r.serialRecovery) {
    lines.push(
      `Echo throughput: ${(r.echo.bytesPerSecond / 1024).toFixed(1)} KiB/s (${BURST} echoes of ${r.echo.largest} bytes, ${r.echo.inFlight} in flight)`,
    );
  }
  if (r.smpStack) lines.push(`SMP work queue stack: ${r.smpStack.used} of ${r.smpStack.size} words used`);
  lines.push('', 'Recommendations (device Kconfig):');
  for (const rec of r.recommendations) lines.push(`  ${rec.option}`, `      ${rec.why}`);
  return `${lines.join('\n')}\n`;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Measure the link to the device and suggest device options for faster, safer transfers')
    .action(
      act(async (ctx) => {
        const client = await ctx.client();
        ctx.doing = 'an echo response';
        const report = await diagnose(client, resolveConnection(ctx.opts).type, ctx.timeoutMs);
        ctx.emit(report, formatDoctor(report));
      }),
    );
}
