import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.SETTINGS;

export const read = command({
  group: G,
  id: 0,
  op: Op.Read,
  name: 'settings.read',
  summary: 'Read a setting (raw bytes)',
  request: v.object({ name: cbor.tstr(), max_size: v.optional(cbor.uint()) }),
  response: v.object({ val: cbor.bstr(), max_size: v.optional(cbor.uint()) }),
});

export const write = command({
  group: G,
  id: 0,
  op: Op.Write,
  name: 'settings.write',
  summary: 'Write a setting (raw bytes)',
  request: v.object({ name: cbor.tstr(), val: cbor.bstr() }),
  response: empty,
});

export const remove = command({
  group: G,
  id: 1,
  op: Op.Write,
  name: 'settings.delete',
  summary: 'Delete a setting',
  request: v.object({ name: cbor.tstr() }),
  response: empty,
});

export const commit = command({
  group: G,
  id: 2,
  op: Op.Write,
  name: 'settings.commit',
  summary: 'Apply the settings written so far',
  request: empty,
  response: empty,
});

export const load = command({
  group: G,
  id: 3,
  op: Op.Read,
  name: 'settings.load',
  summary: 'Load settings from storage',
  request: v.object({ name: v.optional(cbor.tstr()) }),
  response: empty,
});

export const save = command({
  group: G,
  id: 3,
  op: Op.Write,
  name: 'settings.save',
  summary: 'Save settings to storage',
  request: v.object({ name: v.optional(cbor.tstr()) }),
  response: empty,
});

export const settings = { read, write, remove, commit, load, save };
