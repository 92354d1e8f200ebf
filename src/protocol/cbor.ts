import { decode, encode, Tokenizer, Type } from 'cborg';
import { SmpCborError } from './errors.js';

export interface CborLimits {
  /** Deepest nesting of arrays, maps and tags accepted. */
  maxDepth?: number;
  /** Largest encoded payload accepted. */
  maxBytes?: number;
  /** Zephyr's decoder refuses a repeated key; clients tolerate it (taskstat can repeat thread names). */
  rejectDuplicateKeys?: boolean;
}

const DEFAULT_LIMITS: Required<CborLimits> = { maxDepth: 32, maxBytes: 65535 + 8, rejectDuplicateKeys: true };

/** Definite-length encoding with keys in insertion order (what the Go client and most clients send). */
export function encodeCbor(value: unknown): Uint8Array {
  try {
    return encode(value, { mapSorter: undefined, ignoreUndefinedProperties: true } as never);
  } catch (err) {
    throw new SmpCborError(`cannot encode value as CBOR: ${(err as Error).message}`);
  }
}

const BREAK = 0xff;

/** Zephyr's zcbor style: every map and array indefinite-length (`BF … FF`, `9F … FF`), keys in insertion order. */
export function encodeCborIndefinite(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      chunks.push(Uint8Array.of(0x9f));
      for (const item of v) walk(item);
      chunks.push(Uint8Array.of(BREAK));
    } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      chunks.push(Uint8Array.of(0xbf));
      for (const [key, item] of Object.entries(v)) {
        if (item === undefined) continue;
        chunks.push(encodeCbor(key));
        walk(item);
      }
      chunks.push(Uint8Array.of(BREAK));
    } else {
      chunks.push(encodeCbor(v));
    }
  };
  walk(value);
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/**
 * Walks the token stream once before building any value, so that hostile input is refused
 * without deep recursion or large allocations: depth is bounded, and a container may not
 * declare more items than there are bytes left to hold them.
 */
function checkStructure(bytes: Uint8Array, maxDepth: number): void {
  const tokenizer = new Tokenizer(bytes, { allowBigInt: true });
  const remaining: number[] = [];
  let items = 0;
  while (!tokenizer.done()) {
    const token = tokenizer.next();
    if ((token.type === Type.uint || token.type === Type.negint) && typeof token.value === 'bigint') {
      throw new SmpCborError(`CBOR integer ${token.value} is beyond ±2^53, where numbers stop being exact`);
    }
    if (token.type === Type.break) {
      if (remaining.length === 0 || remaining[remaining.length - 1] !== Infinity) {
        throw new SmpCborError('unexpected CBOR break');
      }
      remaining.pop();
    } else {
      if (remaining.length > 0) {
        const top = remaining.length - 1;
        if (remaining[top] !== Infinity) remaining[top]!--;
      } else if (items++ > 0) {
        throw new SmpCborError('more than one CBOR item in the payload');
      }
      let count = -1;
      if (token.type === Type.array) count = token.value === Infinity ? Infinity : Number(token.value);
      else if (token.type === Type.map) count = token.value === Infinity ? Infinity : Number(token.value) * 2;
      else if (token.type === Type.tag) count = 1;
      if (count >= 0) {
        if (count !== Infinity && count > bytes.length - tokenizer.pos()) {
          throw new SmpCborError(`CBOR container declares ${count} items but only ${bytes.length - tokenizer.pos()} bytes follow`);
        }
        remaining.push(count);
        if (remaining.length > maxDepth) throw new SmpCborError(`CBOR nesting deeper than ${maxDepth}`);
      }
    }
    while (remaining[remaining.length - 1] === 0) remaining.pop();
  }
  if (remaining.length > 0) throw new SmpCborError('CBOR payload ends inside a container');
}

/**
 * Decodes one CBOR item from untrusted bytes. Maps become plain objects with text keys,
 * byte strings `Uint8Array`; integers beyond ±2^53 are refused. Every failure is an SmpCborError.
 */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = {}): unknown {
  const { maxDepth, maxBytes, rejectDuplicateKeys } = { ...DEFAULT_LIMITS, ...limits };
  if (bytes.length === 0) throw new SmpCborError('empty CBOR payload');
  if (bytes.length > maxBytes) throw new SmpCborError(`CBOR payload of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  try {
    checkStructure(bytes, maxDepth);
    // cborg's defaults accept indefinite lengths (Zephyr's zcbor sends them) and know no tags.
    return decode(bytes, { allowUndefined: false, allowBigInt: true, rejectDuplicateMapKeys: rejectDuplicateKeys });
  } catch (err) {
    if (err instanceof SmpCborError) throw err;
    throw new SmpCborError(`malformed CBOR: ${(err as Error).message.replace(/^CBOR decode error: /, '')}`);
  }
}

/** Decodes a payload that must be a CBOR map (every SMP group 0–63 payload is one). */
export function decodeCborMap(bytes: Uint8Array, limits?: CborLimits): Record<string, unknown> {
  const value = decodeCbor(bytes, limits);
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new SmpCborError('SMP payload is not a CBOR map');
  }
  return value as Record<string, unknown>;
}
