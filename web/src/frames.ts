/** The frame log: every SMP packet sent and received, decoded (group, command, fields) and in hex. */
import { allCommands, decodeCbor, decodePacket, GROUP_NAMES, Op, toHex, type TraceDirection } from './lib.js';
import { Store } from './store.js';

export interface Frame {
  index: number;
  time: number;
  direction: TraceDirection;
  bytes: Uint8Array;
  /** "os.echo request" or what could be read of an undecodable packet. */
  summary: string;
  seq?: number;
  /** The CBOR payload as JSON, byte strings as hex. */
  fields: string;
}

/** The log keeps this many frames (an upload sends thousands); older ones go. */
export const FRAME_LOG_LIMIT = 2000;

export const frames = new Store<Frame[]>([]);
export const framesPaused = new Store(false);
let counter = 0;

const OP_NAMES = ['read', 'read response', 'write', 'write response'];

function commandName(group: number, id: number, op: number): string {
  const requestOp = op === Op.ReadRsp ? Op.Read : op === Op.WriteRsp ? Op.Write : op;
  const def = allCommands.find((c) => c.group === group && c.id === id && c.op === requestOp);
  return def?.name ?? `${GROUP_NAMES[group] ?? `group ${group}`} command ${id}`;
}

function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return v.length > 48 ? `h'${toHex(v.subarray(0, 48))}…' (${v.length} bytes)` : `h'${toHex(v)}'`;
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Map) return Object.fromEntries(v);
    return v;
  });
}

export function decodeFrame(direction: TraceDirection, bytes: Uint8Array): Pick<Frame, 'summary' | 'seq' | 'fields'> {
  try {
    const { header, payload } = decodePacket(bytes);
    const kind = OP_NAMES[header.op] ?? `op ${header.op}`;
    const summary = `${commandName(header.group, header.id, header.op)} ${kind} (group ${header.group}, id ${header.id}, v${header.version + 1})`;
    return { summary, seq: header.seq, fields: payload.length ? json(decodeCbor(payload)) : '{}' };
  } catch (err) {
    return { summary: `undecodable ${direction === 'tx' ? 'request' : 'response'}: ${err instanceof Error ? err.message : String(err)}`, fields: '' };
  }
}

export function recordFrame(direction: TraceDirection, bytes: Uint8Array): void {
  if (framesPaused.value) return;
  const frame: Frame = { index: ++counter, time: Date.now(), direction, bytes: bytes.slice(), ...decodeFrame(direction, bytes) };
  frames.update((list) => (list.length >= FRAME_LOG_LIMIT ? [...list.slice(list.length - FRAME_LOG_LIMIT + 1), frame] : [...list, frame]));
}

/** The log as text, for a bug report. */
export function framesAsText(list: Frame[]): string {
  return list
    .map(
      (f) =>
        `#${f.index} ${new Date(f.time).toISOString()} ${f.direction === 'tx' ? '->' : '<-'} seq ${f.seq ?? '?'} ${f.summary}\n  ${f.fields}\n  ${toHex(f.bytes)}`,
    )
    .join('\n');
}
