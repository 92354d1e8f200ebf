/** Files: upload and download with progress and a size and hash check; a listing through the shell's `fs ls`. */
import { useState } from 'preact/hooks';
import { connection } from '../connection.js';
import { deviceFileMatches, fileDownload, fileUpload, fs, shell, type TransferProgress } from '../lib.js';
import { bytesText, Message, Section, saveFile, useAction, useConnected } from '../ui.js';

function baseName(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? 'download.bin';
}

export function FilesPanel(_: { active: boolean }) {
  const connected = useConnected();
  const [dir, setDir] = useState('/lfs');
  const [listing, setListing] = useState<string[] | undefined>();
  const [remote, setRemote] = useState('/lfs/hello.txt');
  const [local, setLocal] = useState<File | undefined>();
  const [progress, setProgress] = useState<TransferProgress | undefined>();
  const list = useAction();
  const transfer = useAction();

  const onProgress = (p: TransferProgress) => setProgress({ ...p });
  const check = async (name: string, bytes: Uint8Array) => {
    const c = connection.need();
    const { len } = await c.call(fs.status, { name });
    if (len !== bytes.length) throw new Error(`Size check failed: the device's ${name} has ${len} bytes, ${bytes.length} expected. Transfer it again.`);
    if (!(await deviceFileMatches(c, name, bytes, undefined)))
      throw new Error(`Hash check failed: the device's ${name} differs from the ${bytes.length} bytes here. Transfer it again.`);
  };

  return (
    <div class="grid">
      <Section title="Directory listing">
        <label for="fs-dir">Directory</label>
        <input id="fs-dir" type="text" value={dir} onInput={(e) => setDir(e.currentTarget.value)} />
        <button
          type="button"
          id="fs-list"
          disabled={!connected || list.busy}
          onClick={() =>
            void list.run(async () => {
              const r = await connection.need().call(shell.exec, { argv: ['fs', 'ls', dir] });
              if ((r.ret ?? 0) !== 0) throw new Error(`fs ls ${dir} failed (${r.ret}): ${r.o.replace(/\x1b\[[0-9;]*m/g, '').trim()}`);
              const names = r.o
                .split(/\r?\n/)
                .map((l) => l.trim())
                .filter(Boolean);
              setListing(names);
              return `${names.length} entr${names.length === 1 ? 'y' : 'ies'} in ${dir}.`;
            })
          }
        >
          List (shell fs ls)
        </button>
        <p class="help">Listing needs the device's shell group and its fs commands (CONFIG_FILE_SYSTEM_SHELL); transfers need only the fs group.</p>
        <Message outcome={list.outcome} id="fs-list-message" />
        {listing ? (
          <ul class="listing" id="fs-listing">
            {listing.map((n) => (
              <li key={n}>
                <button type="button" class="link-button" onClick={() => setRemote(`${dir.replace(/\/$/, '')}/${n.replace(/\/$/, '')}`)}>
                  {n}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </Section>
      <Section title="Transfer">
        <label for="fs-remote">File on the device</label>
        <input id="fs-remote" type="text" value={remote} onInput={(e) => setRemote(e.currentTarget.value)} />
        <label for="fs-local">File to upload</label>
        <input id="fs-local" type="file" onChange={(e) => setLocal(e.currentTarget.files?.[0])} />
        <div class="buttons">
          <button
            type="button"
            id="fs-upload"
            disabled={!connected || transfer.busy || !local}
            onClick={() =>
              void transfer.run(async () => {
                const bytes = new Uint8Array(await local!.arrayBuffer());
                setProgress({ done: 0, total: bytes.length });
                await fileUpload(connection.need(), remote, bytes, { onProgress });
                await check(remote, bytes);
                return `Uploaded ${local!.name} to ${remote}: ${bytes.length} bytes; size and hash checked on the device.`;
              })
            }
          >
            Upload
          </button>
          <button
            type="button"
            id="fs-download"
            disabled={!connected || transfer.busy || !remote}
            onClick={() =>
              void transfer.run(async () => {
                setProgress(undefined);
                const bytes = await fileDownload(connection.need(), remote, { onProgress });
                await check(remote, bytes);
                saveFile(baseName(remote), bytes);
                return `Downloaded ${remote}: ${bytes.length} bytes; size and hash checked against the device.`;
              })
            }
          >
            Download
          </button>
        </div>
        {progress ? (
          <>
            <label for="fs-progress">Progress</label>
            <progress id="fs-progress" max={progress.total || 1} value={progress.done} />
            <span>
              {' '}
              {bytesText(progress.done)} of {bytesText(progress.total)}
            </span>
          </>
        ) : null}
        <Message outcome={transfer.outcome} id="fs-message" />
      </Section>
    </div>
  );
}
