/** A firmware file the user dropped: raw bytes of a .bin or .hex (or the app image of a DFU .zip), parsed. */
import { ihexToBinary, parseImage, readDfuPackageAsync, verifyImage, type McubootImage } from './lib.js';

export interface Firmware {
  file: string;
  /** What is uploaded. */
  bytes: Uint8Array;
  image: McubootImage;
  /** Where the bytes came from inside the file, when it was not the file itself. */
  from?: string;
}

/** Reads `file` and checks that its hash TLV is the hash of its contents (no key needed for that). */
export async function loadFirmware(file: File): Promise<Firmware> {
  const fw = await readFirmware(file);
  const check = await verifyImage(fw.bytes);
  if (!check.hashOk) throw new Error(`${file.name} is damaged: ${check.error?.message ?? 'its hash does not match its contents'}.`);
  return fw;
}

async function readFirmware(file: File): Promise<Firmware> {
  const data = new Uint8Array(await file.arrayBuffer());
  const lower = file.name.toLowerCase();
  try {
    if (lower.endsWith('.zip')) {
      const pkg = await readDfuPackageAsync(data);
      const first = pkg.images[0];
      if (!first) throw new Error('the package lists no image');
      const others = pkg.images.length > 1 ? `; ${pkg.images.length - 1} more image(s) in the package are not sent from here` : '';
      return { file: file.name, bytes: first.bytes, image: first.image, from: `${first.file} (image ${first.imageIndex})${others}` };
    }
    if (lower.endsWith('.hex')) {
      const { data: bytes, address } = ihexToBinary(new TextDecoder().decode(data));
      return { file: file.name, bytes, image: parseImage(bytes), from: `Intel HEX at 0x${address.toString(16)}` };
    }
    return { file: file.name, bytes: data, image: parseImage(data) };
  } catch (err) {
    throw new Error(`${file.name} is not an MCUboot image: ${err instanceof Error ? err.message : String(err)}.`);
  }
}
