import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.FS;

export const download = command({
  group: G,
  id: 0,
  op: Op.Read,
  name: 'fs.download',
  summary: 'Read a chunk of a file',
  request: v.object({ name: cbor.tstr(), off: cbor.uint() }),
  response: v.object({ off: cbor.uint(), data: cbor.bstr(), len: v.optional(cbor.uint()) }),
});

export const upload = command({
  group: G,
  id: 0,
  op: Op.Write,
  name: 'fs.upload',
  summary: 'Write a chunk of a file',
  request: v.object({ name: cbor.tstr(), off: cbor.uint(), data: cbor.bstr(), len: v.optional(cbor.uint()) }),
  response: v.object({ off: cbor.uint() }),
});

export const status = command({
  group: G,
  id: 1,
  op: Op.Read,
  name: 'fs.status',
  summary: 'Size of a file',
  request: v.object({ name: cbor.tstr() }),
  response: v.object({ len: cbor.uint() }),
});

export const hash = command({
  group: G,
  id: 2,
  op: Op.Read,
  name: 'fs.hash',
  summary: 'Hash or checksum of a file (crc32, sha256)',
  request: v.object({ name: cbor.tstr(), type: v.optional(cbor.tstr()), off: v.optional(cbor.uint()), len: v.optional(cbor.uint()) }),
  response: v.object({ type: cbor.tstr(), off: v.optional(cbor.uint()), len: cbor.uint(), output: v.union([cbor.uint(), cbor.bstr()]) }),
});

export const supportedHashes = command({
  group: G,
  id: 3,
  op: Op.Read,
  name: 'fs.supportedHashes',
  summary: 'Hash and checksum types the device supports',
  request: empty,
  response: v.object({ types: v.record(v.string(), v.object({ format: cbor.uint(), size: cbor.uint() })) }),
});

export const close = command({
  group: G,
  id: 4,
  op: Op.Write,
  name: 'fs.close',
  summary: 'Close a file left open by a transfer',
  request: empty,
  response: empty,
});

export const fs = { download, upload, status, hash, supportedHashes, close };
