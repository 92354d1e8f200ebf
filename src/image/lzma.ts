/**
 * Raw LZMA2 as imgtool's `sign --compression` makes it and MCUboot's decompressor reads it, through liblzma
 * (the optional package `lzma-native`, loaded on demand): the same library as Python's `lzma`, which imgtool
 * calls, so the compressed bytes are imgtool's.
 *
 * imgtool (scripts/imgtool/main.py): filters `[ARMTHUMB?, LZMA2 {preset 9, dict_size 128 KiB, lc 3, lp 1}]`, and
 * `create_lzma2_header` puts two bytes before the stream: the LZMA2 dictionary-size byte and the lc/lp/pb byte.
 */
import { requireOptional } from '../node/optional.js';
import { ImageError } from './errors.js';

/** imgtool's comp_default_dictsize, comp_default_lc, comp_default_lp, comp_default_pb. */
export const IMGTOOL_LZMA2 = { dictSize: 128 * 1024, lc: 3, lp: 1, pb: 2 } as const;

export interface Lzma2Properties {
  dictSize: number;
  lc: number;
  lp: number;
  pb: number;
}

interface LzmaStream {
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  end(chunk: Uint8Array): void;
  destroy(): void;
}

/** The part of lzma-native's API used here (declared locally: the package is optional, so its types may be absent). */
interface LzmaNative {
  createStream(kind: 'rawEncoder' | 'rawDecoder', options: { filters: { id: unknown; options?: Record<string, unknown> }[] }): LzmaStream;
  FILTER_LZMA2: unknown;
  FILTER_ARMTHUMB: unknown;
  MODE_NORMAL: number;
  MF_BT4: number;
}

function loadLzma(): LzmaNative {
  return requireOptional<LzmaNative>('lzma-native', 'LZMA2 image compression', (message) => new ImageError('package-unavailable', message));
}

/** The filter chain, in encoder order (liblzma's raw decoder takes the same list). */
function filters(lzma: LzmaNative, props: Lzma2Properties, armThumb: boolean) {
  // liblzma's preset 9 (normal mode, BT4 match finder, nice length 64) with imgtool's dictionary and literal settings.
  // lzma-native applies a `preset` after the other options, so the preset's values are spelled out instead.
  const lzma2 = {
    id: lzma.FILTER_LZMA2,
    options: { dictSize: props.dictSize, lc: props.lc, lp: props.lp, pb: props.pb, mode: lzma.MODE_NORMAL, niceLen: 64, mf: lzma.MF_BT4, depth: 0 },
  };
  return armThumb ? [{ id: lzma.FILTER_ARMTHUMB }, lzma2] : [lzma2];
}

/** Feeds `input` through `stream`; past `limit.bytes` of output (when given) the stream is stopped with `limit.error`. */
function run(stream: LzmaStream, input: Uint8Array, limit?: { bytes: number; error: () => Error }): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk) => {
      size += chunk.length;
      if (limit && size > limit.bytes) {
        stream.destroy();
        reject(limit.error());
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks, size))));
    stream.end(input);
  });
}

/** Compresses as imgtool does: raw LZMA2 with imgtool's settings, after the ARM-Thumb BCJ filter if asked. */
export function lzma2Compress(data: Uint8Array, armThumb: boolean): Promise<Uint8Array> {
  const lzma = loadLzma();
  return run(lzma.createStream('rawEncoder', { filters: filters(lzma, IMGTOOL_LZMA2, armThumb) }), data);
}

/**
 * Decompresses a raw LZMA2 stream into at most `maxSize` bytes: a stream that says more, or is damaged, is an
 * ImageError (never an unbounded allocation). Short output is the caller's to judge.
 */
export async function lzma2Decompress(stream: Uint8Array, props: Lzma2Properties, armThumb: boolean, maxSize: number): Promise<Uint8Array> {
  const lzma = loadLzma();
  // The dictionary (at most what the two-byte header can say) is the decoder's only allocation besides the output.
  if (props.dictSize > 64 * 1024 * 1024) throw new ImageError('bad-option', `the LZMA2 dictionary of ${props.dictSize} bytes is beyond any MCUboot's`);
  try {
    const decoder = lzma.createStream('rawDecoder', { filters: filters(lzma, props, armThumb) });
    return await run(decoder, stream, {
      bytes: maxSize,
      error: () => new ImageError('too-large', `the LZMA2 stream decompresses to more than ${maxSize} bytes`),
    });
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError('bad-option', `the LZMA2 stream is damaged: ${(err as Error).message}`);
  }
}

/** imgtool's create_lzma2_header: LZMA2's dictionary-size byte, then (pb × 5 + lp) × 9 + lc. */
export function lzma2Header(props: Lzma2Properties): Uint8Array {
  let dictByte = 0;
  while (dictByte < 40 && props.dictSize > (2 | (dictByte & 1)) * 2 ** (Math.floor(dictByte / 2) + 11)) dictByte++;
  return new Uint8Array([dictByte, (props.pb * 5 + props.lp) * 9 + props.lc]);
}

/** Reads the two bytes lzma2Header writes; undefined when they are not a valid LZMA2 header. */
export function parseLzma2Header(bytes: Uint8Array): Lzma2Properties | undefined {
  if (bytes.length < 2) return undefined;
  const [dictByte, propsByte] = [bytes[0]!, bytes[1]!];
  if (dictByte > 40 || propsByte >= 9 * 5 * 5) return undefined;
  const lc = propsByte % 9;
  const lp = Math.floor(propsByte / 9) % 5;
  const pb = Math.floor(propsByte / 45);
  // LZMA2 limits lc + lp to 4.
  if (lc + lp > 4) return undefined;
  const dictSize = dictByte === 40 ? 0xffffffff : (2 | (dictByte & 1)) * 2 ** (Math.floor(dictByte / 2) + 11);
  return { dictSize, lc, lp, pb };
}
