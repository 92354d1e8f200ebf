import * as v from 'valibot';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.IMAGE;

export const imageSlot = v.object({
  image: v.optional(cbor.uint()),
  slot: cbor.uint(),
  version: cbor.tstr(),
  hash: v.optional(cbor.bstr()),
  bootable: v.optional(cbor.bool()),
  pending: v.optional(cbor.bool()),
  confirmed: v.optional(cbor.bool()),
  active: v.optional(cbor.bool()),
  permanent: v.optional(cbor.bool()),
});
export type ImageSlot = v.InferOutput<typeof imageSlot>;

export const imageStateList = v.object({ images: v.array(imageSlot), splitStatus: v.optional(cbor.uint()) });
export type ImageStateList = v.InferOutput<typeof imageStateList>;

export const state = command({
  group: G,
  id: 0,
  op: Op.Read,
  name: 'image.state',
  summary: 'List the images in every slot with their flags',
  request: empty,
  response: imageStateList,
});

export const setState = command({
  group: G,
  id: 0,
  op: Op.Write,
  name: 'image.setState',
  summary: 'Mark an image for test (hash) or confirm it (confirm: true, with or without hash)',
  request: v.object({ hash: v.optional(cbor.bstr()), confirm: v.optional(cbor.bool()) }),
  response: imageStateList,
});

export const uploadRequest = v.object({
  image: v.optional(cbor.uint()),
  off: cbor.uint(),
  len: v.optional(cbor.uint()),
  sha: v.optional(cbor.bstr()),
  upgrade: v.optional(cbor.bool()),
  data: cbor.bstr(),
});

export const upload = command({
  group: G,
  id: 1,
  op: Op.Write,
  name: 'image.upload',
  summary: 'Write one chunk of an image to the secondary slot',
  request: uploadRequest,
  // MCUboot's serial recovery answers every chunk with `rc` (0 with the offset); Zephyr's img_mgmt never does.
  response: v.object({ off: cbor.uint(), match: v.optional(cbor.bool()), rc: v.optional(cbor.int()) }),
});

export const erase = command({
  group: G,
  id: 5,
  op: Op.Write,
  name: 'image.erase',
  summary: 'Erase a slot (default: the secondary slot)',
  request: v.object({ slot: v.optional(cbor.uint()) }),
  response: empty,
});

export const slotInfo = command({
  group: G,
  id: 6,
  op: Op.Read,
  name: 'image.slotInfo',
  summary: 'Size of every slot and the upload id to reach it',
  request: empty,
  response: v.object({
    images: v.array(
      v.object({
        image: cbor.uint(),
        slots: v.array(v.object({ slot: cbor.uint(), size: v.optional(cbor.uint()), upload_image_id: v.optional(cbor.uint()), rc: v.optional(cbor.int()) })),
        max_image_size: v.optional(cbor.uint()),
      }),
    ),
  }),
});

export const image = { state, setState, upload, erase, slotInfo };
