/** Image group commands on the device: list, upload, test, confirm, erase, slotinfo, upgrade (and the local-file ones). */
import type { Command } from 'commander';
import { image } from '../../groups/index.js';
import { parseHash, parseUint } from '../args.js';
import { act, queryCommand } from '../ctx.js';
import { formatImageList, formatSlotInfo } from '../format.js';
import { UsageError } from '../connect.js';
import { isZip, parseDfuPackage } from '../dfu-package.js';
import { parseImageBytes, readLocalFile } from '../image-file.js';
import { registerLocalImageCommands } from '../image-local.js';
import { uploadImage, uploadPackage } from './image-upload.js';
import { upgrade } from './image-upgrade.js';

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
        ctx.emit(
          { ...result, file, version: info.version, hash: info.hash },
          'Done\n',
        );
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
        const r = await (await ctx.client()).call(image.setState, req);
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
    .option('-n, --image <n>', 'image number (default 0; a dfu_application.zip gives each image its number)')
    .option('--wait <sec>', 'how long to wait for the device after the reset', '60')
    .action(act(async (ctx, file: string, o: { image?: string; wait: string }) => upgrade(ctx, file, o)));
}
