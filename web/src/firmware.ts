/** A firmware file the user dropped: a .bin or .hex (one MCUboot image) or a DFU .zip (one per image number), parsed. */
import { ihexToBinary, parseImage, readDfuPackageAsync, verifyImage, type McubootImage } from './lib.js';

/** One MCUboot image of the file and the device's image number it goes to. */
export interface FirmwareImage {
  /** 0 is the application; a DFU package's manifest numbers the others (e.g. 1: an nRF5340's network core). */
  imageNumber: number;
  /** What is uploaded. */
  bytes: Uint8Array;
  image: McubootImage;
  /** Where the bytes came from inside the file, when it was not the file itself. */
  from?: string;
}

export interface Firmware {
  file: string;
  /** In image-number order. */
  images: FirmwareImage[];
}

/** Reads `file` and checks that each image's hash TLV is the hash of its contents (no key needed for that). */
export async function loadFirmware(file: File): Promise<Firmware> {
  const fw = await readFirmware(file);
  for (const part of fw.images) {
    const check = await verifyImage(part.bytes);
    if (!check.hashOk) {
      const which = fw.images.length > 1 ? ` (image ${part.imageNumber}, ${part.from})` : '';
      throw new Error(`${file.name} is damaged${which}: ${check.error?.message ?? 'its hash does not match its contents'}.`);
    }
  }
  return fw;
}

async function readFirmware(file: File): Promise<Firmware> {
  const data = new Uint8Array(await file.arrayBuffer());
  const lower = file.name.toLowerCase();
  try {
    if (lower.endsWith('.zip')) {
      const pkg = await readDfuPackageAsync(data);
      if (pkg.images.length === 0) throw new Error('the package lists no image');
      const images = pkg.images.map((p) => ({ imageNumber: p.imageIndex, bytes: p.bytes, image: p.image, from: p.file }));
      return { file: file.name, images };
    }
    if (lower.endsWith('.hex')) {
      const { data: bytes, address } = ihexToBinary(new TextDecoder().decode(data));
      return { file: file.name, images: [{ imageNumber: 0, bytes, image: parseImage(bytes), from: `Intel HEX at 0x${address.toString(16)}` }] };
    }
    return { file: file.name, images: [{ imageNumber: 0, bytes: data, image: parseImage(data) }] };
  } catch (err) {
    throw new Error(`${file.name} is not an MCUboot image: ${err instanceof Error ? err.message : String(err)}.`);
  }
}
