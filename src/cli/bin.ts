/** The `mcumgr` executable: runs the command line and exits with its status. */
import { main } from './main.js';

// stdout carries only the command's output (one document with --json): libraries' console chatter
// (noble's adapter warnings, for one) goes to stderr.
console.log = console.error;
console.info = console.error;

void main().then((code) => {
  process.exitCode = code;
  // Don't let a stray socket or timer keep the process alive after the command finished.
  setTimeout(() => process.exit(code), 50).unref();
});
