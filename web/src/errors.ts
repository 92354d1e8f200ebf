/** What an error means to the user and what to do about it, as the CLI says it. */
import { ImageError, SmpAbortError, SmpDeviceError, SmpTimeoutError, TransportError } from './lib.js';

export interface Explained {
  message: string;
  advice?: string;
}

export function explain(err: unknown): Explained {
  if (err instanceof SmpDeviceError) {
    return { message: `The device answered ${err.code} (${err.rc}): ${err.explanation}.`, advice: adviceForDevice(err) };
  }
  if (err instanceof SmpTimeoutError) {
    return {
      message: `No answer: ${err.message}.`,
      advice: 'Is the device connected and running SMP? Check the baud rate and framing, or raise the timeout under Connect.',
    };
  }
  if (err instanceof TransportError) return { message: err.message };
  if (err instanceof ImageError) return { message: `Image: ${err.message}.` };
  if (err instanceof SmpAbortError) return { message: 'Stopped.' };
  return { message: err instanceof Error ? err.message : String(err) };
}

function adviceForDevice(err: SmpDeviceError): string | undefined {
  if (err.kind === 'mgmt' && err.rc === 8) return 'The device was built without this command: see the build option named above.';
  const advice: Record<number, string> = {
    2: 'Try again; if it persists, reset the device.',
    6: 'Check the image state under Images (a test or confirm may be pending), then try again.',
    7: 'Lower the MTU under Connect.',
    10: 'Wait for the other operation to finish, then try again.',
    12: 'The device expects SMP v2.',
    13: 'The device expects SMP v1.',
  };
  return err.kind === 'mgmt' ? advice[err.rc] : undefined;
}

export function errorText(err: unknown): string {
  const { message, advice } = explain(err);
  return advice ? `${message} ${advice}` : message;
}
