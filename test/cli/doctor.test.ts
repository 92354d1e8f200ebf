/** `mcumgr doctor`: the built CLI against the virtual device over UDP, with and without `os params`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommend, type DoctorReport } from '../../src/cli/doctor.js';
import { run, Simulator } from './helpers.js';

type Report = DoctorReport;

const options = (r: Report): string[] => r.recommendations.map((x) => x.option);

describe('mcumgr doctor', () => {
  let sim: Simulator;
  let bare: Simulator;

  beforeAll(async () => {
    // A build without MCUMGR_GRP_OS_MCUMGR_PARAMS and without stack statistics, that silently drops requests over 300 bytes (a buffer smaller than Zephyr's default 384).
    const config = { disabledCommands: ['os.params'], taskstatStackInfo: false, maxRequestSize: 300 };
    [sim, bare] = await Promise.all([Simulator.start(), Simulator.start({ config })]);
  });
  afterAll(async () => {
    await Promise.all([sim?.stop(), bare?.stop()]);
  });

  it('reads the parameters, measures, and recommends in Kconfig names (JSON)', async () => {
    const r = await run([...sim.conn, '--json', 'doctor']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.transport).toBe('udp');
    expect(report.params).toEqual({ bufSize: 1024, bufCount: 4 });
    expect(report.maxPacket).toBe(1024);
    expect(report.rttMs).toBeGreaterThan(0);
    // The largest echo fills the buffer up to the CBOR around it; nothing was dropped.
    expect(report.echo.largest).toBeGreaterThan(1024 - 30);
    expect(report.echo.dropped).toBe(false);
    expect(report.echo.bytesPerSecond).toBeGreaterThan(0);
    expect(report.echo.inFlight).toBe(4);
    expect(report.smpStack).toEqual({ size: 512, used: 300 });
    // What is recommended follows from the report's own measurements (the buffer count advice depends on the
    // measured round trip, which a busy machine stretches); the buffer size and erase advice always apply here.
    const { recommendations, ...measured } = report;
    expect(recommendations).toEqual(recommend(measured));
    expect(options(report)).toEqual(expect.arrayContaining(['CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE=2048', 'CONFIG_IMG_ERASE_PROGRESSIVELY=y']));
  });

  it('prints a human report', async () => {
    const r = await run([...sim.conn, 'doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SMP buffers: 4 × 1024 bytes/);
    expect(r.stdout).toMatch(/Round trip: [\d.]+ ms/);
    expect(r.stdout).toMatch(/Recommendations \(device Kconfig\):\n {2}CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE=2048\n/);
  });

  it('on a device without os params that drops large requests: falls back, finds the limit, recommends', async () => {
    const r = await run([...bare.conn, '--json', 'doctor']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.params).toBeUndefined();
    expect(report.maxPacket).toBe(384);
    expect(report.echo.inFlight).toBe(1);
    expect(report.echo.dropped).toBe(true);
    expect(report.echo.largest + 14).toBeLessThanOrEqual(300);
    expect(report.smpStack).toBeUndefined();
    expect(options(report)[0]).toBe('CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS=y');
    expect(options(report)).toContain('CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE');
    expect(options(report)).not.toContain('CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT=4');
  });

  it('exits 3 with a clear message when no device answers', async () => {
    const r = await run(['--conntype', 'udp', '--connstring', '127.0.0.1:9', '-t', '0.3', 'doctor']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no response from the device/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('doctor recommendations (pure)', () => {
  const measured = {
    transport: 'udp',
    params: { bufSize: 1024, bufCount: 4 },
    maxPacket: 1024,
    rttMs: 1,
    echo: { largest: 1000, dropped: false, bytesPerSecond: 1_000_000, inFlight: 4 },
    smpStack: { size: 512, used: 300 },
  };

  it('a fast local link: bigger buffers and progressive erase, no more buffers', () => {
    expect(options({ ...measured, recommendations: recommend(measured) })).toEqual([
      'CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE=2048',
      'CONFIG_IMG_ERASE_PROGRESSIVELY=y',
    ]);
  });

  it('a long round trip asks for as many buffers as keep the link busy (at most 8)', () => {
    const slow = { ...measured, rttMs: 20 };
    expect(options({ ...slow, recommendations: recommend(slow) })).toContain('CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT=8');
    const medium = { ...measured, rttMs: 12 };
    expect(options({ ...medium, recommendations: recommend(medium) })).toContain('CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT=7');
  });

  it('a nearly full SMP stack and a BLE link', () => {
    const ble = { ...measured, transport: 'ble', smpStack: { size: 512, used: 500 } };
    expect(options({ ...ble, recommendations: recommend(ble) })).toEqual(
      expect.arrayContaining(['CONFIG_MCUMGR_TRANSPORT_WORKQUEUE_STACK_SIZE=4096', 'CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY=y', 'CONFIG_BT_L2CAP_TX_MTU=498']),
    );
  });
});
