import { createRequire } from 'node:module';
import { TransportError } from '../transport/transport.js';

const require = createRequire(import.meta.url);

/**
 * Loads an optional dependency when a transport first needs it (synchronously: a pseudo-terminal opens from a device
 * reset handler). A missing package becomes one line saying what to install (the CLI prints it and exits with
 * status 3); a package that is there but fails to load (a native addon built for another Node) says so.
 */
export function requireOptional<T>(name: string, purpose: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.startsWith(`Cannot find module '${name}'`)) {
      throw new TransportError(`${purpose} needs the optional package ${name}: run npm install ${name}`, { cause: err });
    }
    throw new TransportError(`${purpose}: ${name} could not be loaded: ${e.message}`, { cause: err });
  }
}
