/**
 * Pseudo-terminal (Node, Unix): lets the virtual device expose a serial port. The device reads and
 * writes the master side; clients open `path` (the slave, e.g. /dev/pts/3) like any serial port.
 */
import fs from 'node:fs';
import type tty from 'node:tty';
import { TransportError } from '../transport/transport.js';
import { requireOptional } from './optional.js';

export interface Pty {
  /** Slave device path, e.g. /dev/pts/3. */
  readonly path: string;
  /** Writes bytes to the master (the client reads them from `path`). */
  write(bytes: Uint8Array): Promise<void>;
  /** Receives bytes the client wrote to `path`. */
  onData(cb: (bytes: Uint8Array) => void): void;
  onClose(cb: (error?: Error) => void): void;
  close(): void;
}

interface NodePtyOpened {
  _pty: string;
  _fd: number;
  _master: tty.ReadStream;
  _slave?: tty.ReadStream;
}

/** Opens a pseudo-terminal in raw mode (no echo, no line editing; '\n' may come back as '\r\n'). */
export function openPty(): Pty {
  if (process.platform === 'win32') throw new TransportError('Pseudo-terminals are not supported on Windows');
  // node-pty's `open` is there at run time but missing from its type declarations.
  type NodePty = { open(o: { encoding: null }): NodePtyOpened };
  const opened = requireOptional<NodePty>('node-pty', 'A pseudo-terminal').open({ encoding: null });
  const path = opened._pty;
  const fd = opened._fd;
  const master = opened._master;
  const slave = opened._slave;
  // Raw mode on the tty (termios belong to the tty, so they outlive this fd).
  try {
    slave?.setRawMode(true);
  } catch {
    /* tolerate: the decoder ignores '\r' */
  }
  // Keep a slave fd of our own open (so the master never sees EIO while no client is connected) but never
  // read it: the bytes are for the client that opens `path`. node-pty's slave stream would read them, so close it.
  let keepFd = -1;
  try {
    keepFd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch {
    /* fall back: without it the pty may close when the last client disconnects */
  }
  slave?.destroy();
  const dataListeners: ((bytes: Uint8Array) => void)[] = [];
  const closeListeners: ((error?: Error) => void)[] = [];
  let closed = false;
  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners.splice(0)) l(err);
  };
  master.removeAllListeners('data');
  master.on('data', (d: Buffer | string) => {
    const b = typeof d === 'string' ? new TextEncoder().encode(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    for (const l of dataListeners) l(b);
  });
  master.on('error', (err: Error) => {
    // EIO: no slave open. Harmless while our own slave fd stays open; report anything else.
    if ((err as NodeJS.ErrnoException).code !== 'EIO') finish(new TransportError(`pty error: ${err.message}`));
  });
  master.on('close', () => finish());

  let writeChain: Promise<void> = Promise.resolve();
  const writeAll = (bytes: Uint8Array): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let off = 0;
      const step = () => {
        if (closed) return reject(new TransportError('pty is closed'));
        if (off >= bytes.length) return resolve();
        fs.write(fd, bytes, off, bytes.length - off, null, (err, written) => {
          if (err) {
            if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK') return void setTimeout(step, 2);
            return reject(new TransportError(`pty write failed: ${err.message}`));
          }
          off += written;
          step();
        });
      };
      step();
    });

  return {
    path,
    write(bytes: Uint8Array): Promise<void> {
      const copy = bytes.slice();
      const p = writeChain.then(() => writeAll(copy));
      writeChain = p.catch(() => undefined);
      return p;
    },
    onData(cb) {
      dataListeners.push(cb);
    },
    onClose(cb) {
      closeListeners.push(cb);
    },
    close() {
      if (closed) return;
      finish();
      try {
        master.destroy();
      } catch {
        /* ignore */
      }
      if (keepFd >= 0) {
        try {
          fs.closeSync(keepFd);
        } catch {
          /* ignore */
        }
        keepFd = -1;
      }
    },
  };
}
