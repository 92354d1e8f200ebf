import { z } from 'zod';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.STAT;

export const read = command({
  group: G, id: 0, op: Op.Read, name: 'stat.read', summary: 'Read the counters of one statistics group',
  request: z.object({ name: cbor.tstr() }),
  response: z.object({ name: cbor.tstr(), fields: z.record(z.string(), cbor.uint()) }),
});

export const list = command({
  group: G, id: 1, op: Op.Read, name: 'stat.list', summary: 'List the statistics groups',
  request: empty,
  response: z.object({ stat_list: z.array(cbor.tstr()) }),
});

export const stat = { read, list };
