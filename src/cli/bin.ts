/** The `mcumgr` executable: runs the command line and exits with its status. */
import { main } from './main.js';
import { reportError } from './report-error.js';

// stdout carries only the command's output (one document with --json): libraries' console chatter
// (noble's adapter warnings, for one) goes to stderr.
console.log = console.error;
console.info = console.error;

// An error escaping from a callback (a socket's, a timer's) still ends with one clear line and a documented status.
const escaped = (err: unknown): void => {
  const status = reportError(err);
  process.exit(status);
};
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

const code = await main();
process.exitCode = code;
// Don't let a stray socket or timer keep the process alive after the command finished.
setTimeout(() => process.exit(code), 50).unref();
