import { os } from '../../groups/os.js';
import { GroupError, MgmtError } from '../errors.js';
import type { VirtualDevice } from '../device.js';

const G = 0;

interface Thread {
  name: string;
  prio: number;
  state: number;
  stksiz: number;
  stkuse: number;
  /** Share of the CPU, to advance `runtime`. */
  load: number;
}

const THREADS: Thread[] = [
  { name: 'mcumgr smp', prio: 3, state: 128, stksiz: 512, stkuse: 300, load: 0.01 },
  { name: 'sysworkq', prio: -1, state: 2, stksiz: 256, stkuse: 92, load: 0.002 },
  { name: 'shell_uart', prio: 14, state: 128, stksiz: 512, stkuse: 211, load: 0.004 },
  { name: 'logging', prio: 14, state: 2, stksiz: 192, stkuse: 70, load: 0.001 },
  { name: 'idle', prio: 15, state: 0, stksiz: 80, stkuse: 16, load: 0.95 },
  { name: 'main', prio: 0, state: 16, stksiz: 1024, stkuse: 388, load: 0.02 },
];
const RECORDED_THREADS = ['mcumgr smp', 'sysworkq', 'shell_dummy', 'shell_uart', 'idle', 'main'];

export function registerOs(dev: VirtualDevice): void {
  const { server, config } = dev;
  server.setGroupName(G, 'os mgmt');

  server.register(os.echo, (req) => ({ r: req.d ?? '' }));

  server.register(os.taskstat, () => {
    const tasks: Record<string, unknown> = {};
    if (!config.taskstatStackInfo) {
      const prios: Record<string, [number, number]> = {
        'mcumgr smp': [3, 128],
        sysworkq: [-1, 2],
        shell_dummy: [14, 2],
        shell_uart: [14, 128],
        idle: [15, 0],
        main: [0, 16],
      };
      RECORDED_THREADS.forEach((name, tid) => {
        const [prio, state] = prios[name]!;
        tasks[name] = { prio, tid, state };
      });
      return { tasks } as never;
    }
    const cycles = dev.uptimeMs() * 1000; // 1 MHz cycle counter
    THREADS.forEach((t, tid) => {
      tasks[t.name] = { prio: t.prio, tid, state: t.state, stksiz: t.stksiz, stkuse: t.stkuse, runtime: Math.floor(cycles * t.load) >>> 0 };
    });
    return { tasks } as never;
  });

  if (config.datetime) {
    server.register(os.datetimeGet, () => {
      const d = new Date(Date.now() + dev.clockOffsetMs);
      return { datetime: d.toISOString().slice(0, 19) };
    });
    server.register(os.datetimeSet, (req) => {
      const t = req.datetime;
      const m = /^(\d{4,5}).(\d{1,2}).(\d{1,2}).(\d{1,2}).(\d{1,2}).(\d{1,2})/.exec(t);
      if (t.length < 19 || t.length > 25 || !m) throw new GroupError(G, 2);
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      if (y < 1900 || y > 11899 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw new GroupError(G, 2);
      const when = Date.UTC(y, mo - 1, d, h, mi, s);
      dev.clockOffsetMs = when - Date.now();
      dev.saveMeta();
      return {};
    });
  }

  server.register(
    os.reset,
    (req) => {
      dev.scheduleReset(req.boot_mode);
      return {};
    },
    { payload: 'optional' },
  );

  server.register(os.mcumgrParams, () => ({ buf_size: config.bufSize, buf_count: config.bufCount }));

  server.register(os.info, (req) => {
    const format = req.format === undefined || req.format === '' ? 's' : req.format;
    const i = config.info;
    const fields: [string, string | undefined][] = [
      ['s', i.kernel],
      ['n', i.nodeName],
      ['r', i.release],
      ['v', i.version],
      ['b', i.buildDate],
      ['m', i.machine],
      ['p', i.processor],
      ['i', i.board],
      ['o', i.os],
    ];
    const valid = new Set(fields.filter(([, v]) => v !== undefined).map(([c]) => c));
    const wanted = new Set<string>();
    for (const c of format) {
      if (c === 'a') valid.forEach((v) => wanted.add(v));
      else if (valid.has(c)) wanted.add(c);
      else throw new GroupError(G, 2);
    }
    const output = fields
      .filter(([c]) => wanted.has(c))
      .map(([, v]) => v)
      .join(' ');
    if (Buffer.byteLength(output) > 256) throw new MgmtError(7);
    return { output };
  });

  server.register(os.bootloaderInfo, (req) => {
    if (req.query === undefined) return { bootloader: 'MCUboot' };
    if (req.query === 'mode') return config.noDowngrade ? { mode: config.mcubootMode, 'no-downgrade': true } : { mode: config.mcubootMode };
    throw new MgmtError(3);
  });
}
