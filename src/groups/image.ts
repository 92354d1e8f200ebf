import { z } from 'zod';
import { GroupId } from '../protocol/errors.js';
import { Op } from '../protocol/header.js';
import { cbor, command, empty } from './define.js';

const G = GroupId.IMAGE;

export const imageSlot = z.object({
  image: cbor.uint().optional(),
  slot: cbor.uint(),
  version: cbor.tstr(),
  hash: cbor.bstr().optional(),
  bootable: cbor.bool().optional(),
  pending: cbor.bool().optional(),
  confirmed: cbor.bool().optional(),
  active: cbor.bool().optional(),
  permanent: cbor.bool().optional(),
});
export type ImageSlot = z.infer<typeof imageSlot>;

export const imageStateList = z.object({ images: z.array(imageSlot), splitStatus: cbor.uint().optional() });
export type ImageStateList = z.infer<typeof imageStateList>;

export const state = command({
  group: G, id: 0, op: Op.Read, name: 'image.state', summary: 'List the images in every slot with their flags',
  request: empty,
  response: imageStateList,
});

export const setState = command({
  group: G, id: 0, op: Op.Write, name: 'image.setState',
  summary: 'Mark an image for test (hash) or confirm it (confirm: true, with or without hash)',
  request: z.object({ hash: cbor.bstr().optional(), confirm: cbor.bool().optional() }),
  response: imageStateList,
});

export const upload = command({
  group: G, id: 1, op: Op.Write, name: 'image.upload', summary: 'Write one chunk of an image to the secondary slot',
  request: z.object({
    image: cbor.uint().optional(),
    off: cbor.uint(),
    len: cbor.uint().optional(),
    sha: cbor.bstr().optional(),
    upgrade: cbor.bool().optional(),
    data: cbor.bstr(),
  }),
  // MCUboot's serial recovery answers every chunk with `rc` (0 with the offset); Zephyr's img_mgmt never does.
  response: z.object({ off: cbor.uint(), match: cbor.bool().optional(), rc: cbor.int().optional() }),
});

export const erase = command({
  group: G, id: 5, op: Op.Write, name: 'image.erase', summary: 'Erase a slot (default: the secondary slot)',
  request: z.object({ slot: cbor.uint().optional() }),
  response: empty,
});

export const slotInfo = command({
  group: G, id: 6, op: Op.Read, name: 'image.slotInfo', summary: 'Size of every slot and the upload id to reach it',
  request: empty,
  response: z.object({
    images: z.array(z.object({
      image: cbor.uint(),
      slots: z.array(z.object({ slot: cbor.uint(), size: cbor.uint().optional(), upload_image_id: cbor.uint().optional(), rc: cbor.int().optional() })),
      max_image_size: cbor.uint().optional(),
    })),
  }),
});

export const image = { state, setState, upload, erase, slotInfo };
