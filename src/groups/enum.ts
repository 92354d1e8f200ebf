import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.ENUM;

export const count = command({
  group: G,
  id: 0,
  op: Op.Read,
  name: 'enum.count',
  summary: 'Number of management groups',
  request: empty,
  response: v.object({ count: cbor.uint() }),
});

export const list = command({
  group: G,
  id: 1,
  op: Op.Read,
  name: 'enum.list',
  summary: 'Ids of the management groups',
  request: empty,
  response: v.object({ groups: v.array(cbor.uint()) }),
});

export const single = command({
  group: G,
  id: 2,
  op: Op.Read,
  name: 'enum.single',
  summary: 'Group id at an index',
  request: v.object({ index: cbor.uint() }),
  response: v.object({ group: cbor.uint(), end: v.optional(cbor.bool()) }),
});

export const details = command({
  group: G,
  id: 3,
  op: Op.Read,
  name: 'enum.details',
  summary: 'Name and handler count of groups',
  request: v.object({ groups: v.optional(v.array(cbor.uint())) }),
  response: v.object({ groups: v.array(v.object({ group: cbor.uint(), name: v.optional(cbor.tstr()), handlers: v.optional(cbor.uint()) })) }),
});

export const enumeration = { count, list, single, details };
