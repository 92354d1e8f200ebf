/** Prints an error the way its kind deserves (Go format for device errors, JSON with --json) and picks the exit status. */
import { SmpAbortError, SmpDeviceError, SmpError, SmpRequestTooLargeError, SmpTimeoutError } from '../protocol/errors.js';
import { TransportError } from '../transport/transport.js';
import { ImageError } from '../image/errors.js';
import { UsageError } from './connect.js';
import { EXIT, lastCtx } from './ctx.js';

export function reportError(err: unknown): number {
  const currentCtx = lastCtx();
  const json = currentCtx?.json ?? process.argv.includes('--json');
  const jsonErr = (obj: Record<string, unknown>): void => {
    // --jsonl: the error is the last event on stdout, where the script reads the others.
    if (currentCtx?.jsonl) process.stdout.write(`${JSON.stringify({ event: 'error', error: obj })}\n`);
    else process.stderr.write(`${JSON.stringify({ error: obj })}\n`);
  };
  if (err instanceof SmpDeviceError) {
    if (json) jsonErr({ kind: 'device', rc: err.rc, group: err.group, code: err.code, message: err.message });
    else {
      process.stdout.write(`Error: ${err.rc}\n`);
      process.stderr.write(`${err.message}\n`);
    }
    return EXIT.DEVICE;
  }
  if (err instanceof SmpTimeoutError) {
    const doing = currentCtx?.doing ?? 'the response';
    const msg = `NMP timeout: ${err.message} (waited for ${doing}). Is the device connected and running SMP? Raise the timeout with -t SECONDS or retry with -r N.`;
    if (json) jsonErr({ kind: 'timeout', message: msg });
    else process.stderr.write(`Error: ${msg}\n`);
    return EXIT.TRANSPORT;
  }
  if (err instanceof TransportError || (err instanceof Error && err.name === 'TransportError')) {
    if (json) jsonErr({ kind: 'transport', message: err.message });
    else process.stderr.write(`Error: ${err.message}\n`);
    return EXIT.TRANSPORT;
  }
  if (err instanceof UsageError || err instanceof SmpRequestTooLargeError || isLocalFileError(err)) {
    const message = (err as Error).message;
    if (json) jsonErr({ kind: 'usage', message });
    else process.stderr.write(`Error: ${message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof ImageError && (err.code === 'signer-failed' || err.code === 'package-unavailable')) {
    // A signer that fails is like a device that refuses (2); a missing optional package is like a missing radio (3).
    if (json) jsonErr({ kind: 'signer', message: err.message });
    else process.stderr.write(`Error: ${err.message}\n`);
    return err.code === 'signer-failed' ? EXIT.DEVICE : EXIT.TRANSPORT;
  }
  if (err instanceof SmpAbortError) {
    process.stderr.write('Error: interrupted\n');
    return 130;
  }
  if (err instanceof SmpError) {
    // A malformed or unexpected answer: the link or the device's SMP server is at fault.
    if (json) jsonErr({ kind: 'protocol', message: err.message });
    else process.stderr.write(`Error: ${err.message}\n`);
    return EXIT.TRANSPORT;
  }
  // Not an error this program raises on purpose: one line for the user, the stack with --loglevel debug.
  const message = `internal error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  if (json) jsonErr({ kind: 'internal', message });
  else process.stderr.write(`Error: ${message} (run with --loglevel debug to see where)\n`);
  if (currentCtx?.debug ?? debugRequested(process.argv)) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
  return EXIT.TRANSPORT;
}

/** A local file the user named cannot be read or written (missing, a directory, no permission...). */
function isLocalFileError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string' && typeof e.path === 'string';
}

/** `--loglevel debug` / `-l debug` on a command line that failed before its context was made. */
function debugRequested(argv: string[]): boolean {
  return argv.some((a, i) => a === '--loglevel=debug' || ((a === '--loglevel' || a === '-l') && argv[i + 1] === 'debug'));
}
