import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.OS;

export const echo = command({
  group: G,
  id: 0,
  op: Op.Write,
  name: 'os.echo',
  summary: 'Send a text and get it back',
  request: v.object({ d: v.optional(cbor.tstr()) }),
  response: v.object({ r: cbor.tstr() }),
});

export const taskStat = v.object({
  prio: cbor.int(),
  tid: cbor.uint(),
  state: cbor.uint(),
  stksiz: v.optional(cbor.uint()),
  stkuse: v.optional(cbor.uint()),
  runtime: v.optional(cbor.uint()),
  cswcnt: v.optional(cbor.uint()),
  last_checkin: v.optional(cbor.uint()),
  next_checkin: v.optional(cbor.uint()),
});
export type TaskStat = v.InferOutput<typeof taskStat>;

export const taskstat = command({
  group: G,
  id: 2,
  op: Op.Read,
  name: 'os.taskstat',
  summary: 'Per-thread statistics',
  request: empty,
  response: v.object({ tasks: v.record(v.string(), taskStat) }),
});

const memPool = v.object({ blksiz: v.optional(cbor.uint()), nblks: cbor.uint(), nfree: cbor.uint(), min: v.optional(cbor.uint()) });
export const mpstat = command({
  group: G,
  id: 3,
  op: Op.Read,
  name: 'os.mpstat',
  summary: 'Memory pool (heap) statistics',
  request: empty,
  response: v.objectWithRest({ mpools: v.optional(v.record(v.string(), memPool)), tasks: v.optional(v.record(v.string(), memPool)) }, v.unknown()),
});

export const datetimeGet = command({
  group: G,
  id: 4,
  op: Op.Read,
  name: 'os.datetime.get',
  summary: 'Read the device clock',
  request: empty,
  response: v.object({ datetime: cbor.tstr() }),
});

export const datetimeSet = command({
  group: G,
  id: 4,
  op: Op.Write,
  name: 'os.datetime.set',
  summary: 'Set the device clock (YYYY-MM-DDTHH:MM:SS)',
  request: v.object({ datetime: cbor.tstr() }),
  response: empty,
});

export const reset = command({
  group: G,
  id: 5,
  op: Op.Write,
  name: 'os.reset',
  summary: 'Restart the device',
  request: v.object({ force: v.optional(cbor.bool()), boot_mode: v.optional(cbor.uint()) }),
  response: empty,
});

export const mcumgrParams = command({
  group: G,
  id: 6,
  op: Op.Read,
  name: 'os.params',
  summary: 'SMP buffer size and count of the device',
  request: empty,
  response: v.object({ buf_size: cbor.uint(), buf_count: cbor.uint() }),
});

export const info = command({
  group: G,
  id: 7,
  op: Op.Read,
  name: 'os.info',
  summary: 'OS/application information (uname-like)',
  request: v.object({ format: v.optional(cbor.tstr()) }),
  response: v.object({ output: cbor.tstr() }),
});

export const bootloaderInfo = command({
  group: G,
  id: 8,
  op: Op.Read,
  name: 'os.bootloader',
  summary: 'Bootloader name, or its mode with query "mode"',
  request: v.object({ query: v.optional(cbor.tstr()) }),
  response: v.object({ bootloader: v.optional(cbor.tstr()), mode: v.optional(cbor.int()), 'no-downgrade': v.optional(cbor.bool()) }),
});

export const os = { echo, taskstat, mpstat, datetimeGet, datetimeSet, reset, mcumgrParams, info, bootloaderInfo };
