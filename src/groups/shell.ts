import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command } from './define.js';

export const exec = command({
  group: GroupId.SHELL,
  id: 0,
  op: Op.Write,
  name: 'shell.exec',
  summary: 'Run a shell command line',
  request: v.object({ argv: v.array(cbor.tstr()) }),
  response: v.object({ o: cbor.tstr(), ret: v.optional(cbor.int()), rc: v.optional(cbor.int()) }),
});

export const shell = { exec };
