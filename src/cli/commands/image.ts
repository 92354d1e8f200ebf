/** Image group commands on the device: list, upload, test, confirm, erase, slotinfo, upgrade (and the local-file ones). */
import type { Command } from 'commander';
import { image } from '../../groups/index.js';
import { inSerialRecovery } from '../../client/bootloader.js';
import { parseHash, parseUint } from '../args.js';
import { act, queryCommand } from '../ctx.js';
import { formatImageList, formatSlotInfo } from '../format.js';
import { UsageError } from '../connect.js';
import { isZip, parseDfuPackage } from '../dfu-package.js';
import { parseImageBytes, readLocalFile } from '../image-file.js';
import { registerLocalImageCommands } from '../image-local.js';
import { uploadImage, uploadPackage } from './image-upload.js';
import { upgrade } from './image-upgrade.js';

/** boot_serial.c bs_set (recorded in test/fixtures/mcuboot, rec_img_state_write_confirm_no_hash_v1). */
const RECOVERY_CONFIRM =
  'not sent: the device is in MCUboot serial recovery, where "confirm" without a hash does not confirm the image in ' +
  "the primary slot: MCUboot writes a permanent-swap request into the (empty) secondary slot's trailer instead. " +
  'An image uploaded in recovery already is in the primary slot and boots as it is after `mcumgr reset`; ' +
  'confirm it from the application, or give the hash of a secondary-slot image (`image confirm HASH`)';

export function registerImageCommands(program: Command): void {
  const img = program.command('image').description('Manage firmware images');
  registerLocalImageCommands(img);
  queryCommand(img, 'list', 'List the images on the device', image.state, formatImageList);
  img
    .command('upload')
    .description('Upload an MCUboot image to the secondary slot, or every image of a dfu_application.zip to its image number')
    .argument('<file>', 'MCUboot image (.bin or Intel HEX) or dfu_application.zip')
    .option('-n, --image <n>', 'image number (default 0; a dfu_application.zip gives each image its number)')
    .option('-e, --noerase', "send no image erase command first (the Go tool's flag; this is the default)")
    .option('--erase', 'send an image erase command first (an interrupted upload then starts over)')
    .option('-u, --upgrade', 'only accept an image newer than the running one')
    .action(
      act(async (ctx, file: string, o: { image?: string; erase?: boolean; upgrade?: boolean }) => {
        const bytes = readLocalFile(file);
        if (isZip(bytes)) {
          if (o.image !== undefined) throw new UsageError('-n does not apply to a dfu_application.zip: its manifest gives each image its number');
          await uploadPackage(ctx, file, await parseDfuPackage(file, bytes), Boolean(o.erase), Boolean(o.upgrade));
          return;
        }
        const info = parseImageBytes(file, bytes);
        const imageNum = o.image === undefined ? 0 : parseUint(o.image, 'image number');
        const result = await uploadImage(ctx, info.bytes, imageNum, Boolean(o.erase), Boolean(o.upgrade));
        ctx.emit({ ...result, file, version: info.version, hash: info.hash }, 'Done\n');
      }),
    );
  img
    .command('test')
    .description('Mark an image to be tested on the next reset')
    .argument('<hash>', 'image hash (hex, from `image list`)')
    .action(
      act(async (ctx, hash: string) => {
        const h = parseHash(hash);
        const r = await (await ctx.client()).call(image.setState, { hash: h, confirm: false });
        ctx.emit(r, formatImageList(r));
      }),
    );
  img
    .command('confirm')
    .description('Confirm the running image (no hash), or the image with this hash')
    .argument('[hash]')
    .action(
      act(async (ctx, hash?: string) => {
        const req = hash ? { hash: parseHash(hash), confirm: true } : { confirm: true };
        const c = await ctx.client();
        if (!hash && (await inSerialRecovery(c))) throw new UsageError(RECOVERY_CONFIRM);
        const r = await c.call(image.setState, req);
        ctx.emit(r, formatImageList(r));
      }),
    );
  img
    .command('erase')
    .description('Erase a slot (default: the secondary slot)')
    .argument('[slot]')
    .action(
      act(async (ctx, slot?: string) => {
        const req = slot !== undefined ? { slot: parseUint(slot, 'slot') } : {};
        await (await ctx.client()).call(image.erase, req);
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
  queryCommand(img, 'slotinfo', 'Show the size of every slot', image.slotInfo, formatSlotInfo);
  img
    .command('upgrade')
    .description('Upload, test, reset, wait for the device, check the new image runs, and confirm it')
    .argument('<file>', 'MCUboot image (.bin or Intel HEX) or dfu_application.zip')
    .argument(
      '[other]',
      'MCUboot direct-XIP: the build for the other slot (each signed with --rom-fixed); the one for the slot the device does not run is sent',
    )
    .option('-n, --image <n>', 'image number (default 0; a dfu_application.zip gives each image its number)')
    .option('--wait <sec>', 'how long to wait for the device after the reset', '60')
    .action(act(async (ctx, file: string, other: string | undefined, o: { image?: string; wait: string }) => upgrade(ctx, file, o, other)));
}
