import { TransportError } from '../transport/transport.js';

/**
 * Imports an optional dependency when a transport first needs it. A missing package becomes one line saying what
 * to install (the CLI prints it and exits with status 3); a package that is there but fails to load (a native addon
 * built for another Node) says so.
 */
export async function importOptional<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // ERR_MODULE_NOT_FOUND from import(); MODULE_NOT_FOUND from require(), which the bundled CLI uses instead.
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(`'${name}'`)) {
      throw new TransportError(`${purpose} needs the optional package ${name}: run npm install ${name}`, { cause: err });
    }
    throw new TransportError(`${purpose}: ${name} could not be loaded: ${e.message}`, { cause: err });
  }
}
