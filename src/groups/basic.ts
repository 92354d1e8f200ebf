import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { command, empty } from './define.js';

export const eraseStorage = command({
  group: GroupId.ZEPHYR_BASIC,
  id: 0,
  op: Op.Write,
  name: 'basic.eraseStorage',
  summary: 'Erase the storage partition',
  request: empty,
  response: empty,
});

export const basic = { eraseStorage };
