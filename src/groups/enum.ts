import { z } from 'zod';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.ENUM;

export const count = command({
  group: G, id: 0, op: Op.Read, name: 'enum.count', summary: 'Number of management groups',
  request: empty, response: z.object({ count: cbor.uint() }),
});

export const list = command({
  group: G, id: 1, op: Op.Read, name: 'enum.list', summary: 'Ids of the management groups',
  request: empty, response: z.object({ groups: z.array(cbor.uint()) }),
});

export const single = command({
  group: G, id: 2, op: Op.Read, name: 'enum.single', summary: 'Group id at an index',
  request: z.object({ index: cbor.uint() }),
  response: z.object({ group: cbor.uint(), end: cbor.bool().optional() }),
});

export const details = command({
  group: G, id: 3, op: Op.Read, name: 'enum.details', summary: 'Name and handler count of groups',
  request: z.object({ groups: z.array(cbor.uint()).optional() }),
  response: z.object({ groups: z.array(z.object({ group: cbor.uint(), name: cbor.tstr().optional(), handlers: cbor.uint().optional() })) }),
});

export const enumeration = { count, list, single, details };
