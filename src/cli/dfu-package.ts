/** A Zephyr dfu_application.zip as `image upload` takes it: every image checked here before anything is sent. */
import { formatVersion, ImageError, readDfuPackage, verifyImage } from '../image/node.js';
import { UsageError } from './connect.js';
import type { ImageFileInfo } from './image-file.js';

export interface PackagedImage extends ImageFileInfo {
  /** The manifest's image_index: the image number the file is uploaded to. */
  image: number;
  /** Name inside the ZIP. */
  file: string;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export async function parseDfuPackage(path: string, zip: Uint8Array): Promise<PackagedImage[]> {
  let images;
  try {
    images = readDfuPackage(zip).images;
  } catch (err) {
    if (err instanceof ImageError) throw new UsageError(`${path} is not a usable dfu_application.zip: ${err.message}`);
    throw err;
  }
  if (images.length === 0) throw new UsageError(`${path}: its manifest.json lists no images`);
  return Promise.all(
    images.map(async (p) => {
      const check = await verifyImage(p.bytes);
      if (!check.ok) throw new UsageError(`${path}: image ${p.imageIndex} (${p.file}) is not a valid MCUboot image: ${check.error?.message}`);
      return {
        image: p.imageIndex,
        file: p.file,
        bytes: p.bytes,
        version: formatVersion(p.image.header.version),
        ...(p.image.hash ? { hash: p.image.hash } : {}),
      };
    }),
  );
}
