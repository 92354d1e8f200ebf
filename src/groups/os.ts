import { z } from 'zod';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.OS;

export const echo = command({
  group: G, id: 0, op: Op.Write, name: 'os.echo', summary: 'Send a text and get it back',
  request: z.object({ d: cbor.tstr().optional() }),
  response: z.object({ r: cbor.tstr() }),
});

export const taskStat = z.object({
  prio: cbor.int(),
  tid: cbor.uint(),
  state: cbor.uint(),
  stksiz: cbor.uint().optional(),
  stkuse: cbor.uint().optional(),
  runtime: cbor.uint().optional(),
  cswcnt: cbor.uint().optional(),
  last_checkin: cbor.uint().optional(),
  next_checkin: cbor.uint().optional(),
});
export type TaskStat = z.infer<typeof taskStat>;

export const taskstat = command({
  group: G, id: 2, op: Op.Read, name: 'os.taskstat', summary: 'Per-thread statistics',
  request: empty,
  response: z.object({ tasks: z.record(z.string(), taskStat) }),
});

const memPool = z.object({ blksiz: cbor.uint().optional(), nblks: cbor.uint(), nfree: cbor.uint(), min: cbor.uint().optional() });
export const mpstat = command({
  group: G, id: 3, op: Op.Read, name: 'os.mpstat', summary: 'Memory pool (heap) statistics',
  request: empty,
  response: z.object({ mpools: z.record(z.string(), memPool).optional(), tasks: z.record(z.string(), memPool).optional() }).catchall(z.unknown()),
});

export const datetimeGet = command({
  group: G, id: 4, op: Op.Read, name: 'os.datetime.get', summary: 'Read the device clock',
  request: empty,
  response: z.object({ datetime: cbor.tstr() }),
});

export const datetimeSet = command({
  group: G, id: 4, op: Op.Write, name: 'os.datetime.set', summary: 'Set the device clock (YYYY-MM-DDTHH:MM:SS)',
  request: z.object({ datetime: cbor.tstr() }),
  response: empty,
});

export const reset = command({
  group: G, id: 5, op: Op.Write, name: 'os.reset', summary: 'Restart the device',
  request: z.object({ force: cbor.bool().optional(), boot_mode: cbor.uint().optional() }),
  response: empty,
});

export const mcumgrParams = command({
  group: G, id: 6, op: Op.Read, name: 'os.params', summary: 'SMP buffer size and count of the device',
  request: empty,
  response: z.object({ buf_size: cbor.uint(), buf_count: cbor.uint() }),
});

export const info = command({
  group: G, id: 7, op: Op.Read, name: 'os.info', summary: 'OS/application information (uname-like)',
  request: z.object({ format: cbor.tstr().optional() }),
  response: z.object({ output: cbor.tstr() }),
});

export const bootloaderInfo = command({
  group: G, id: 8, op: Op.Read, name: 'os.bootloader', summary: 'Bootloader name, or its mode with query "mode"',
  request: z.object({ query: cbor.tstr().optional() }),
  response: z.object({ bootloader: cbor.tstr().optional(), mode: cbor.int().optional(), 'no-downgrade': cbor.bool().optional() }),
});

export const os = { echo, taskstat, mpstat, datetimeGet, datetimeSet, reset, mcumgrParams, info, bootloaderInfo };
