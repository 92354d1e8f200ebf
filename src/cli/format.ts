/** Human output in the exact formats of the Go mcumgr tool (reference §5.8). */
import type { ResponseOf } from '../groups/define.js';
import type { ImageStateList, slotInfo } from '../groups/image.js';
import type { TaskStat } from '../groups/os.js';
import { toHex } from '../protocol/hex.js';
import { UsageError } from './connect.js';

export { toHex };

export function fromHex(text: string): Uint8Array {
  const t = text.trim();
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) throw new UsageError(`invalid hex string "${text}"`);
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** JSON-ready copy of a value: byte strings become hex strings. */
export function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(jsonable);
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = jsonable(x);
    return o;
  }
  return v;
}

const SPLIT = ['N/A', 'non-matching', 'matching'];

export function formatImageList(s: ImageStateList): string {
  let out = 'Images:\n';
  for (const img of s.images) {
    out += ` image=${img.image ?? 0} slot=${img.slot}\n`;
    out += `    version: ${img.version}\n`;
    out += `    bootable: ${img.bootable ?? false}\n`;
    const flags = (['active', 'confirmed', 'pending', 'permanent'] as const).filter((f) => img[f]);
    out += `    flags: ${flags.join(' ')}\n`;
    out += `    hash: ${img.hash && img.hash.length > 0 ? toHex(img.hash) : 'Unavailable'}\n`;
  }
  // MCUboot's serial recovery sends no split status.
  if (s.splitStatus === undefined) return out;
  const split = s.splitStatus;
  out += `Split status: ${SPLIT[split] ?? 'Unknown!'} (${split})\n`;
  return out;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function formatStatList(names: string[]): string {
  if (names.length === 0) return 'stat groups: none\n';
  return (
    'stat groups:\n' +
    [...names]
      .sort(byName)
      .map((n) => `    ${n}\n`)
      .join('')
  );
}

export function formatStatGroup(name: string, fields: Record<string, number>): string {
  const keys = Object.keys(fields).sort(byName);
  let out = `stat group: ${name}\n`;
  if (keys.length === 0) return `${out}    (empty)\n`;
  for (const k of keys) out += `${String(fields[k]).padStart(10)} ${k}\n`;
  return out;
}

const r = (v: unknown, w: number): string => String(v).padStart(w);

export function formatTaskstat(tasks: Record<string, TaskStat>): string {
  let out = `  ${r('task', 8)} ${r('pri', 3)} ${r('tid', 3)} ${r('runtime', 8)} ${r('csw', 8)} ${r('stksz', 8)} ${r('stkuse', 8)} ${r('last_checkin', 8)} ${r('next_checkin', 8)}\n`;
  for (const name of Object.keys(tasks).sort(byName)) {
    const t = tasks[name]!;
    out += `  ${r(name, 8)} ${r(t.prio ?? 0, 3)} ${r(t.tid ?? 0, 3)} ${r(t.runtime ?? 0, 8)} ${r(t.cswcnt ?? 0, 8)} ${r(t.stksiz ?? 0, 8)} ${r(t.stkuse ?? 0, 8)} ${r(t.last_checkin ?? 0, 8)} ${r(t.next_checkin ?? 0, 8)}\n`;
  }
  return out;
}

export function formatMpstat(pools: Record<string, { blksiz?: number; nblks: number; nfree: number; min?: number }>): string {
  let out = `${r('name', 32)} ${r('blksz', 5)} ${r('cnt', 4)} ${r('free', 4)} ${r('min', 4)}\n`;
  for (const name of Object.keys(pools).sort(byName)) {
    const p = pools[name]!;
    out += `${r(name, 32)} ${r(p.blksiz ?? 0, 5)} ${r(p.nblks, 4)} ${r(p.nfree, 4)} ${r(p.min ?? 0, 4)}\n`;
  }
  return out;
}

export function formatSlotInfo(r: ResponseOf<typeof slotInfo>): string {
  let text = '';
  for (const i of r.images) {
    text += `image=${i.image}${i.max_image_size !== undefined ? ` max_image_size=${i.max_image_size}` : ''}\n`;
    for (const s of i.slots) {
      text += `  slot=${s.slot}${s.size !== undefined ? ` size=${s.size}` : ''}${s.upload_image_id !== undefined ? ` upload_image_id=${s.upload_image_id}` : ''}${s.rc !== undefined ? ` rc=${s.rc}` : ''}\n`;
    }
  }
  return text;
}
