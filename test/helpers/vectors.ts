import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Turns decoded CBOR into the vectors' JSON convention (byte strings as lowercase hex). */
export function toVectorJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toVectorJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toVectorJson(v)]));
  }
  return value;
}

export interface Exchange {
  request_packet_hex: string;
  request_header: Record<string, number>;
  request_body_json?: unknown;
  response_packet_hex: string | null;
  response_header?: Record<string, number>;
  response_body_json?: unknown;
  serial_sent_hex?: string;
  further_responses?: unknown[];
}

export interface DeviceCase {
  name: string;
  exchanges: Exchange[];
}

export function deviceCases(): DeviceCase[] {
  const dir = join(FIXTURES, 'zephyr-3.4-smp');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as DeviceCase);
}

export interface GoRun {
  name: string;
  argv: string[];
  stdout: string;
  stderr: string;
  exit_status: number | string;
  requests_sent: { packet_hex: string; body_json: unknown; header: Record<string, number> }[];
  responses_received: { packet_hex: string; body_json: unknown }[];
}

export function goRuns(): GoRun[] {
  const dir = join(FIXTURES, 'go-mcumgr-output');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as GoRun);
}
