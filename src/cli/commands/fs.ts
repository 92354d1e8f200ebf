/** File system group commands: upload, download, stat, hash, hashtypes, close. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fileDownload, fileUpload, type DownloadProgress } from '../../client/files.js';
import { fs } from '../../groups/index.js';
import { UsageError } from '../connect.js';
import { act } from '../ctx.js';
import { toHex } from '../format.js';
import { readLocalFile } from '../image-file.js';
import { keepLink } from '../lost-link.js';

/** `fs upload` always starts a file over: a new run writes it again from offset 0. */
const UPLOAD_AGAIN = 'running the same command again uploads the file again from the start';
/** `fs download` keeps nothing: a new run reads the file again from the start. */
const DOWNLOAD_AGAIN = 'running the same command again downloads the file again from the start';

/** Zephyr's fs group has no delete command (fs_mgmt.c: file, stat, hash, supported hashes, close). */
const PARTIAL_FILE_NOTE = (remote: string): string =>
  `The device may keep a partial ${remote}. Its fs group has no delete command: \`mcumgr fs close\` closes the file, ` +
  `an upload from offset 0 replaces it, and where the device's shell has file commands \`mcumgr shell exec fs rm ${remote}\` removes it.`;

export function registerFsCommands(program: Command): void {
  const fsCmd = program.command('fs').description('Transfer files');
  fsCmd
    .command('upload')
    .description('Upload a local file to the device')
    .argument('<local>')
    .argument('<remote>')
    .action(
      act(async (ctx, local: string, remote: string) => {
        const bytes = readLocalFile(local);
        await ctx.client();
        const bar = ctx.progress('upload', { local, remote, bytes: bytes.length });
        const offs: number[] = [];
        let started = false;
        let acked = 0;
        // After a lost link the upload goes on from what the device acknowledged (it names its own length if that differs).
        const r = await keepLink(ctx, {
          operation: 'upload',
          bar,
          again: UPLOAD_AGAIN,
          done: () => acked,
          attempt: (client) => {
            ctx.doing = 'a file upload response';
            return fileUpload(client, remote, bytes, {
              ...ctx.transferWindow,
              resumeFrom: acked,
              onProgress: (p) => {
                started = true;
                acked = p.done;
                bar.update(p.done, p.total);
              },
              onRetry: (off, reason) => bar.retry(off, reason),
              onResponse: (off) => {
                offs.push(off);
                if (!bar.enabled) ctx.say(String(off));
              },
            });
          },
        }).catch((err: unknown) => {
          if (started && !ctx.json) ctx.log(PARTIAL_FILE_NOTE(remote));
          throw err;
        });
        ctx.emit({ remote, ...r, offsets: offs }, 'Done\n');
      }),
    );
  fsCmd
    .command('download')
    .description('Download a file from the device')
    .argument('<remote>')
    .argument('<local>')
    .action(
      act(async (ctx, remote: string, local: string) => {
        await ctx.client();
        const bar = ctx.progress('download', { remote, local });
        let last = -1;
        // After a lost link the download goes on after the data received so far.
        const progress: DownloadProgress = { prefix: new Uint8Array(0) };
        const data = await keepLink(ctx, {
          operation: 'download',
          bar,
          again: DOWNLOAD_AGAIN,
          done: () => progress.prefix.length,
          attempt: (client) => {
            ctx.doing = 'a file download response';
            return fileDownload(client, remote, {
              ...ctx.transferWindow,
              progress,
              onProgress: (p) => bar.update(p.done, p.total),
              onRetry: (off, reason) => bar.retry(off, reason),
              onResponse: (off) => {
                last = off;
                if (!bar.enabled) ctx.say(String(off));
              },
            });
          },
        });
        if (!bar.enabled && last !== data.length) ctx.say(String(data.length));
        try {
          writeFileSync(local, data, { mode: 0o660 });
        } catch (err) {
          throw new UsageError(`cannot write ${local}: ${(err as Error).message}`);
        }
        ctx.emit({ remote, local, bytes: data.length }, 'Done\n');
      }),
    );
  fsCmd
    .command('stat')
    .description('Show the size of a file on the device')
    .argument('<remote>')
    .action(
      act(async (ctx, remote: string) => {
        const r = await (await ctx.client()).call(fs.status, { name: remote });
        ctx.emit({ name: remote, ...r }, `${remote}: ${r.len} bytes\n`);
      }),
    );
  fsCmd
    .command('hash')
    .description('Hash or checksum of a file on the device')
    .argument('<remote>')
    .option('-t, --type <type>', 'crc32 or sha256 (default: the device default, crc32)')
    .action(
      act(async (ctx, remote: string, o: { type?: string }) => {
        const r = await (await ctx.client()).call(fs.hash, { name: remote, ...(o.type ? { type: o.type } : {}) });
        const out = typeof r.output === 'number' ? r.output.toString(16).padStart(8, '0') : toHex(r.output);
        ctx.emit({ name: remote, ...r, output: out }, `type: ${r.type}\noff: ${r.off ?? 0}\nlen: ${r.len}\noutput: ${out}\n`);
      }),
    );
  fsCmd
    .command('hashtypes')
    .description('List the hash and checksum types the device computes (for `fs hash -t`)')
    .action(
      act(async (ctx) => {
        const r = await (await ctx.client()).call(fs.supportedHashes, {});
        const rows = Object.entries(r.types).map(([name, t]) => `${name}: ${t.size} bytes, ${t.format === 0 ? 'number' : 'byte string'}\n`);
        ctx.emit(r, rows.join(''));
      }),
    );
  fsCmd
    .command('close')
    .description('Close the file a transfer left open on the device (so it can be written again at once)')
    .action(
      act(async (ctx) => {
        await (await ctx.client()).call(fs.close, {});
        ctx.emit({ ok: true }, 'Done\n');
      }),
    );
}
