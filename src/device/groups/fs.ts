import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fs as fsCmds } from '../../groups/fs.js';
import { GroupError, MgmtError } from '../errors.js';
import { resolveFsPath } from '../fs-sandbox.js';
import type { VirtualDevice } from '../device.js';
import { crc32 } from '../../protocol/crc32.js';

const G = 8;

export interface FsTransfer {
  name: string;
  link: object;
  off: number;
  len: number;
  timer?: ReturnType<typeof setTimeout>;
}

function checkAccess(dev: VirtualDevice, op: 'upload' | 'download' | 'status' | 'hash', name: string): void {
  const rc = dev.config.fs.accessHook?.(op, name);
  if (rc !== undefined && rc !== 0) throw new MgmtError(rc);
}

function fileSize(host: string): number {
  const st = statSync(host);
  if (st.isDirectory()) throw new GroupError(G, 4);
  return st.size;
}

function readRange(host: string, off: number, len: number): Buffer {
  const fd = openSync(host, 'r');
  try {
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, off);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Bytes of storage used: littlefs-like, whole blocks per file, small files inline. */
export function fsUsage(dev: VirtualDevice, replace?: { host: string; size: number }): number {
  const { blockSize, inlineMax } = dev.config.fs;
  const cost = (size: number): number => (size <= inlineMax ? 0 : Math.ceil(size / blockSize) * blockSize);
  let used = 0;
  let seen = false;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        if (replace && p === replace.host) {
          seen = true;
          used += cost(replace.size);
        } else used += cost(statSync(p).size);
      }
    }
  };
  walk(dev.fsRoot);
  if (replace && !seen) used += cost(replace.size);
  return used;
}

export function registerFs(dev: VirtualDevice): void {
  const { server, config } = dev;
  const cfg = config.fs;
  server.setGroupName(G, 'fs mgmt');

  const release = (): void => {
    if (dev.fsTransfer?.timer) clearTimeout(dev.fsTransfer.timer);
    dev.fsTransfer = undefined;
  };
  const touch = (t: FsTransfer): void => {
    if (t.timer) clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      if (dev.fsTransfer === t) dev.fsTransfer = undefined;
    }, cfg.idleCloseMs);
    t.timer.unref?.();
  };

  server.register(fsCmds.download, (req, ctx) => {
    const host = resolveFsPath(dev, req.name, false);
    checkAccess(dev, 'download', req.name);
    const size = fileSize(host);
    const chunk = Math.max(1, config.bufSize - 44);
    const data = new Uint8Array(req.off >= size ? Buffer.alloc(0) : readRange(host, req.off, Math.min(chunk, size - req.off)));
    const end = req.off + data.length;
    if (end >= size) release();
    else {
      if (!dev.fsTransfer || dev.fsTransfer.name !== req.name || dev.fsTransfer.link !== ctx.link) {
        release();
        dev.fsTransfer = { name: req.name, link: ctx.link, off: end, len: size };
      }
      dev.fsTransfer.off = end;
      touch(dev.fsTransfer);
    }
    return req.off === 0 ? { off: req.off, data, len: size } : { off: req.off, data };
  });

  server.register(fsCmds.upload, (req, ctx) => {
    const host = resolveFsPath(dev, req.name, true);
    checkAccess(dev, 'upload', req.name);
    if (existsSync(host) && statSync(host).isDirectory()) throw new GroupError(G, 4);
    let t = dev.fsTransfer && dev.fsTransfer.name === req.name && dev.fsTransfer.link === ctx.link ? dev.fsTransfer : undefined;
    let writeAt: number;
    if (req.off === 0) {
      if (req.len === undefined) throw new MgmtError(3);
      if (t) {
        // Zephyr 3.4 quirk: starting again at 0 while the file is still open appends.
        writeAt = t.off;
        t.len = req.len;
      } else {
        release();
        t = { name: req.name, link: ctx.link, off: 0, len: req.len };
        writeAt = 0;
        const fd = openSync(host, existsSync(host) ? 'r+' : 'w');
        try {
          if (req.data.length > 0) ftruncateSync(fd, 0);
        } finally {
          closeSync(fd);
        }
      }
    } else {
      if (!t) {
        release();
        const current = existsSync(host) ? statSync(host).size : 0;
        t = { name: req.name, link: ctx.link, off: current, len: req.len ?? Number.MAX_SAFE_INTEGER };
      }
      if (req.off !== t.off) {
        const expected = t.off;
        release();
        throw new GroupError(G, 11, { len: expected });
      }
      writeAt = t.off;
    }
    dev.fsTransfer = t;
    if (req.data.length > 0) {
      const newSize = Math.max(existsSync(host) ? statSync(host).size : 0, writeAt + req.data.length);
      if (fsUsage(dev, { host, size: newSize }) > cfg.capacity) {
        release();
        throw new GroupError(G, 10);
      }
      const fd = openSync(host, 'r+');
      try {
        writeSync(fd, req.data, 0, req.data.length, writeAt);
      } finally {
        closeSync(fd);
      }
    }
    t.off = writeAt + req.data.length;
    if (t.off >= t.len) release();
    else touch(t);
    return { off: t.off };
  });

  server.register(fsCmds.status, (req) => {
    const host = resolveFsPath(dev, req.name, false);
    checkAccess(dev, 'status', req.name);
    return { len: fileSize(host) };
  });

  server.register(fsCmds.hash, (req) => {
    const type = req.type ?? cfg.hashes[0] ?? 'crc32';
    if (type.length > 8) throw new MgmtError(3);
    if (req.len === 0) throw new MgmtError(3);
    const host = resolveFsPath(dev, req.name, false);
    checkAccess(dev, 'hash', req.name);
    if (!(cfg.hashes as string[]).includes(type)) throw new GroupError(G, 13);
    const size = fileSize(host);
    if (size === 0) throw new GroupError(G, 16);
    const off = req.off ?? 0;
    if (off >= size) throw new GroupError(G, 12);
    const data = readRange(host, off, Math.min(req.len ?? size, size - off));
    const output = type === 'crc32' ? crc32(data) : new Uint8Array(createHash('sha256').update(data).digest());
    return off !== 0 ? { type, off, len: data.length, output } : { type, len: data.length, output };
  });

  if (cfg.supportedHashesCommand) {
    // fs_mgmt.c (Zephyr 4.1): {"types": {NAME: {"format": 1 if the output is a byte string, "size": bytes}}}.
    server.register(fsCmds.supportedHashes, () => {
      const types: Record<string, { format: number; size: number }> = {};
      for (const h of cfg.hashes) types[h] = h === 'crc32' ? { format: 0, size: 4 } : { format: 1, size: 32 };
      return { types };
    });
  }

  server.register(fsCmds.close, () => {
    release();
    return {};
  });
}
