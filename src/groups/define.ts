import * as v from 'valibot';
import type { Op } from '../protocol/header.js';

/**
 * One SMP command, defined once: the client's typed call, the virtual device's handler table,
 * request validation and the CLI's documentation are all derived from these definitions.
 */
export interface CommandDef<Req = unknown, Rsp = unknown> {
  group: number;
  id: number;
  /** Op.Read (0) or Op.Write (2). */
  op: typeof Op.Read | typeof Op.Write;
  /** `group.command`, e.g. `os.echo`. */
  name: string;
  summary: string;
  request: Schema<Req>;
  response: Schema<Rsp>;
}

/** A schema of one request or response (valibot: small and tree-shaken, see the README). */
export type Schema<T> = v.GenericSchema<T>;

export function command<Req, Rsp>(def: CommandDef<Req, Rsp>): CommandDef<Req, Rsp> {
  return def;
}

export type RequestOf<C> = C extends CommandDef<infer Req, unknown> ? Req : never;
export type ResponseOf<C> = C extends CommandDef<unknown, infer Rsp> ? Rsp : never;

/** CBOR field types as Zephyr's decoder checks them. */
export const cbor = {
  uint: () => v.pipe(v.number(), v.integer(), v.minValue(0)),
  int: () => v.pipe(v.number(), v.integer()),
  tstr: () => v.string(),
  bstr: () => v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'expected a byte string'),
  bool: () => v.boolean(),
};

export const empty = v.object({});

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Validates `input` against a schema: the value (unknown map keys dropped), or the first problem as "path: message". */
export function check<T>(schema: Schema<T>, input: unknown): Checked<T> {
  const r = v.safeParse(schema, input);
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  return { ok: false, problem: `${v.getDotPath(issue) || 'payload'}: ${issue.message}` };
}

/** True unless the schema is an object schema without fields (a command whose request carries nothing). */
export function hasFields(schema: Schema<unknown>): boolean {
  const entries = (schema as { entries?: Record<string, unknown> }).entries;
  return entries === undefined || Object.keys(entries).length > 0;
}
