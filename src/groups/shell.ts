import { z } from 'zod';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command } from './define.js';

export const exec = command({
  group: GroupId.SHELL, id: 0, op: Op.Write, name: 'shell.exec', summary: 'Run a shell command line',
  request: z.object({ argv: z.array(cbor.tstr()) }),
  response: z.object({ o: cbor.tstr(), ret: cbor.int().optional(), rc: cbor.int().optional() }),
});

export const shell = { exec };
