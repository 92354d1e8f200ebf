import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'zephyr-3.4-smp');

export interface Exchange {
  request_packet_hex?: string | null;
  serial_sent_hex?: string;
  serial_received_lines?: { hex: string }[];
  response_packet_hex?: string | null;
  request_note?: string;
}

export interface VectorCase {
  file: string;
  index: number;
  ex: Exchange;
}

export function loadExchanges(): VectorCase[] {
  const out: VectorCase[] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .sort()) {
    const d = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { exchanges?: Exchange[] };
    (d.exchanges ?? []).forEach((ex, index) => out.push({ file, index, ex }));
  }
  return out;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
