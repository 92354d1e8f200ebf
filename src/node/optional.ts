import { createRequire } from 'node:module';
import { TransportError } from '../transport/transport.js';

const require = createRequire(import.meta.url);

/**
 * Loads an optional dependency when it is first needed (synchronously: a pseudo-terminal opens from a device reset
 * handler). A missing package becomes one line saying what to install (the CLI prints it and exits with status 3);
 * a package that is there but fails to load (a native addon built for another Node) says so. `fail` makes the error
 * of the caller's layer (a TransportError by default).
 */
export function requireOptional<T>(
  name: string,
  purpose: string,
  fail: (message: string, cause: unknown) => Error = (message, cause) => new TransportError(message, { cause }),
): T {
  try {
    return require(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.startsWith(`Cannot find module '${name}'`)) {
      throw fail(`${purpose} needs the optional package ${name}: run npm install ${name}`, err);
    }
    throw fail(`${purpose}: ${name} could not be loaded: ${e.message}`, err);
  }
}
