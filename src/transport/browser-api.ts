/** Shared by the browser adapters (Web Serial, Web Bluetooth): reaching `navigator.*` and its device choosers. */
import { TransportError } from './transport.js';

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs a browser's device chooser (`requestPort`, `requestDevice`; it must run in a user gesture) on
 * `navigator[api]`, or on `given` when there is one. Rejects with a TransportError when the browser lacks
 * the API or the user picked nothing.
 */
export async function chooseDevice<Api, Device>(api: 'serial' | 'bluetooth', given: Api | undefined, choose: (api: Api) => Promise<Device>): Promise<Device> {
  const found = given ?? (globalThis as unknown as { navigator?: Record<string, Api | undefined> }).navigator?.[api];
  const name = api === 'serial' ? 'Web Serial' : 'Web Bluetooth';
  if (!found) throw new TransportError(`This browser has no ${name} (navigator.${api}): use Chrome or Edge, on https or localhost`);
  try {
    return await choose(found);
  } catch (err) {
    throw new TransportError(`No device chosen (${name}): ${errorMessage(err)}`, { cause: err });
  }
}
