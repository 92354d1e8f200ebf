import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.STAT;

export const read = command({
  group: G,
  id: 0,
  op: Op.Read,
  name: 'stat.read',
  summary: 'Read the counters of one statistics group',
  request: v.object({ name: cbor.tstr() }),
  response: v.object({ name: cbor.tstr(), fields: v.record(v.string(), cbor.uint()) }),
});

export const list = command({
  group: G,
  id: 1,
  op: Op.Read,
  name: 'stat.list',
  summary: 'List the statistics groups',
  request: empty,
  response: v.object({ stat_list: v.array(cbor.tstr()) }),
});

export const stat = { read, list };
