import { z } from 'zod';
import { Op } from '../protocol/header.js';

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
  request: z.ZodType<Req>;
  response: z.ZodType<Rsp>;
}

export function command<Req, Rsp>(def: CommandDef<Req, Rsp>): CommandDef<Req, Rsp> {
  return def;
}

export type RequestOf<C> = C extends CommandDef<infer Req, unknown> ? Req : never;
export type ResponseOf<C> = C extends CommandDef<unknown, infer Rsp> ? Rsp : never;

/** CBOR field types as Zephyr's decoder checks them. */
export const cbor = {
  uint: () => z.number().int().nonnegative(),
  int: () => z.number().int(),
  tstr: () => z.string(),
  bstr: () => z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a byte string' }),
  bool: () => z.boolean(),
};

export const empty = z.object({});
