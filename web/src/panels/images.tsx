/**
 * Images: the slots as cards; a dropped .bin/.hex/.zip shown (header, version, TLVs, hash) and checked (slot size,
 * signature with the user's key) before it is sent; upload with speed and ETA; test, confirm, erase, reset; the
 * one-click upgrade.
 */
import { useRef, useState } from 'preact/hooks';
import { Chart } from '../chart.js';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { loadFirmware, type Firmware } from '../firmware.js';
import {
  compareVersions,
  formatVersion,
  IMAGE_FLAGS,
  image,
  imageUpload,
  os,
  parseVersion,
  SmpError,
  toHex,
  TransportError,
  verifyImage,
  type ImageSlot,
  type SmpClient,
} from '../lib.js';
import { Store, useStore } from '../store.js';
import { bytesText, durationText, Message, Section, useAction, useConnected, useOnConnect } from '../ui.js';

interface SlotCard extends ImageSlot {
  size?: number;
}

/** The upload's speed samples (seconds since start, KiB/s) and where it stands, kept while the panel is hidden. */
interface UploadState {
  done: number;
  total: number;
  times: number[];
  speeds: number[];
  etaSeconds: number;
  resumedFrom?: number;
}

const upload = new Store<UploadState | undefined>(undefined);

const STEPS = ['Upload', 'Mark for test', 'Reset', 'Wait for the device', 'Confirm'] as const;
type StepState = 'todo' | 'doing' | 'done' | 'failed';
const upgradeSteps = new Store<{ states: StepState[]; detail: string[] } | undefined>(undefined);

/** How many times a lost link may interrupt one upload before it gives up. */
const MAX_RESUMES = 5;

function flagNames(s: ImageSlot): string[] {
  return (['active', 'confirmed', 'pending', 'permanent', 'bootable'] as const).filter((f) => s[f]);
}

function headerFlags(flags: number): string {
  const names = Object.entries(IMAGE_FLAGS)
    .filter(([, bit]) => flags & bit)
    .map(([name]) => name);
  return names.length ? names.join(', ') : 'none';
}

async function readSlots(c: SmpClient): Promise<SlotCard[]> {
  const { images } = await c.call(image.state, {});
  let sizes: Map<string, number> | undefined;
  try {
    const info = await c.call(image.slotInfo, {});
    sizes = new Map(info.images.flatMap((i) => i.slots.flatMap((s) => (s.size !== undefined ? [[`${i.image}:${s.slot}`, s.size] as const] : []))));
  } catch {
    // Zephyr before 3.6 has no slot info: sizes stay unknown.
  }
  return images.map((s) => ({ ...s, size: sizes?.get(`${s.image ?? 0}:${s.slot}`) }));
}

/** Uploads `fw`, resuming after a lost link (the device keeps what it got: the same sha256 resumes). */
async function uploadResuming(fw: Firmware, options: { noDowngrade: boolean }, say: (text: string) => void): Promise<void> {
  const total = fw.bytes.length;
  const started = performance.now();
  const state: UploadState = { done: 0, total, times: [0], speeds: [0], etaSeconds: Number.NaN };
  upload.set({ ...state });
  let lastSample = { t: started, done: 0 };
  for (let resumes = 0; ; resumes++) {
    const client = resumes === 0 ? connection.need() : await connection.reconnected();
    try {
      await imageUpload(client, fw.bytes, {
        upgrade: options.noDowngrade,
        onProgress: ({ done, resumedFrom }) => {
          const now = performance.now();
          if (resumedFrom !== undefined) state.resumedFrom = resumedFrom;
          state.done = done;
          if (now - lastSample.t >= 250 || done === total) {
            const speed = ((done - lastSample.done) / 1024 / ((now - lastSample.t) / 1000)) || 0;
            state.times = [...state.times, (now - started) / 1000];
            state.speeds = [...state.speeds, Math.max(0, speed)];
            const average = done / ((now - started) / 1000);
            state.etaSeconds = average > 0 ? (total - done) / average : Number.NaN;
            lastSample = { t: now, done };
            upload.set({ ...state });
          }
        },
      });
      upload.set({ ...state, done: total, etaSeconds: 0 });
      return;
    } catch (err) {
      const lost = client.closeReason !== undefined || err instanceof TransportError;
      if (!lost || resumes >= MAX_RESUMES) throw err;
      say(`The link was lost at ${bytesText(state.done)} (${errorText(err)}). Waiting for the device to resume the upload …`);
      await connection.reconnected();
      say(`Reconnected: resuming the upload from where the device stopped …`);
    }
  }
}

function refuseDowngrade(fw: Firmware, slots: SlotCard[]): void {
  const running = slots.find((s) => (s.image ?? 0) === 0 && s.active);
  if (!running) return;
  const newVersion = fw.image.header.version;
  if (compareVersions(newVersion, parseVersion(running.version)) <= 0) {
    throw new SmpError(
      `Refused: ${fw.file} is version ${formatVersion(newVersion)}, not newer than the running ${running.version}. ` +
        'Turn off "Refuse downgrades" to send it anyway.',
    );
  }
}

/** The most bytes image 0 may have (its secondary slot's size), or undefined when the device does not say. */
async function uploadLimit(c: SmpClient): Promise<{ size: number; slot: number } | undefined> {
  try {
    const info = await c.call(image.slotInfo, {});
    const first = info.images.find((i) => i.image === 0);
    const secondary = first?.slots.find((s) => s.slot === 1);
    const size = first?.max_image_size ?? secondary?.size;
    return size === undefined ? undefined : { size, slot: secondary?.slot ?? 1 };
  } catch {
    return undefined;
  }
}

async function refuseTooBig(fw: Firmware, c: SmpClient): Promise<void> {
  const limit = await uploadLimit(c);
  if (limit && fw.bytes.length > limit.size) {
    throw new SmpError(`${fw.file} is ${fw.bytes.length} bytes: slot ${limit.slot} holds at most ${limit.size}. Build a smaller image.`);
  }
}

function SlotCards({ slots, busy, act }: { slots: SlotCard[]; busy: boolean; act: (what: string, run: () => Promise<string>) => void }) {
  const connected = useConnected();
  const setState = (req: { hash?: Uint8Array; confirm?: boolean }) => connection.need().call(image.setState, req);
  return (
    <ul class="slots" id="slots">
      {slots.map((s) => {
        const key = `${s.image ?? 0}-${s.slot}`;
        return (
          <li key={key} class="slot card" id={`slot-${key}`} aria-label={`Image ${s.image ?? 0}, slot ${s.slot}`}>
            <h4>
              Image {s.image ?? 0} · slot {s.slot} <span class="version">{s.version}</span>
            </h4>
            <p class="flags">
              {flagNames(s).map((f) => (
                <span key={f} class={`flag flag-${f}`}>
                  {f}
                </span>
              ))}
            </p>
            <p class="hash" title="SHA-256 of the image">
              {s.hash ? toHex(s.hash) : 'no hash'}
            </p>
            {s.size !== undefined ? <p class="size">slot size {bytesText(s.size)}</p> : null}
            <div class="buttons">
              {s.hash && !s.active && !s.pending ? (
                <button type="button" disabled={!connected || busy} onClick={() => act('test', async () => (await setState({ hash: s.hash! }), `Slot ${s.slot} marked for test: reset to boot it.`))}>
                  Test
                </button>
              ) : null}
              {s.active && !s.confirmed ? (
                <button type="button" disabled={!connected || busy} onClick={() => act('confirm', async () => (await setState({ confirm: true }), 'The running image is confirmed.'))}>
                  Confirm
                </button>
              ) : null}
              {!s.active && s.hash ? (
                <button
                  type="button"
                  disabled={!connected || busy}
                  onClick={() => act('erase', async () => (await connection.need().call(image.erase, { slot: s.slot }), `Slot ${s.slot} erased.`))}
                >
                  Erase
                </button>
              ) : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function FirmwareDetails({ fw }: { fw: Firmware }) {
  const h = fw.image.header;
  return (
    <div id="firmware-details">
      <dl class="facts">
        <div class="fact"><dt>File</dt><dd id="fw-file">{fw.file}{fw.from ? ` (${fw.from})` : ''}</dd></div>
        <div class="fact"><dt>Version</dt><dd id="fw-version">{formatVersion(h.version)}</dd></div>
        <div class="fact"><dt>Size</dt><dd>{fw.bytes.length} bytes (header {h.hdrSize}, body {h.imgSize}, TLVs {fw.image.size - h.hdrSize - h.imgSize})</dd></div>
        <div class="fact"><dt>Load address</dt><dd>0x{h.loadAddr.toString(16)}</dd></div>
        <div class="fact"><dt>Header flags</dt><dd>{headerFlags(h.flags)}</dd></div>
        <div class="fact"><dt>Hash ({fw.image.hashAlgorithm ?? 'none'})</dt><dd class="hash" id="fw-hash">{fw.image.hash ? toHex(fw.image.hash) : '—'}</dd></div>
      </dl>
      <table class="tlvs">
        <caption>TLVs</caption>
        <thead>
          <tr><th scope="col">Type</th><th scope="col">Name</th><th scope="col">Length</th><th scope="col">Value</th></tr>
        </thead>
        <tbody>
          {fw.image.tlvs.map((t) => (
            <tr key={t.offset}>
              <td>0x{t.type.toString(16)}</td>
              <td>{t.name}</td>
              <td>{t.value.length}</td>
              <td class="hash">{toHex(t.value.subarray(0, 32))}{t.value.length > 32 ? '…' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function UploadProgress() {
  const u = useStore(upload);
  if (!u) return null;
  const pct = u.total ? Math.floor((u.done / u.total) * 100) : 0;
  const speed = u.speeds[u.speeds.length - 1] ?? 0;
  return (
    <div id="upload-progress">
      <label for="upload-bar">Upload</label>
      <progress id="upload-bar" max={u.total} value={u.done} />
      <p id="upload-text">
        {bytesText(u.done)} of {bytesText(u.total)} ({pct} %), {speed.toFixed(1)} KiB/s, {u.done >= u.total ? 'done' : `about ${durationText(u.etaSeconds)} left`}
        {u.resumedFrom ? `, resumed at ${bytesText(u.resumedFrom)}` : ''}
      </p>
      <Chart id="upload-chart" label="Upload speed over time" series={['KiB/s']} data={[u.times, u.speeds]} height={150} yLabel="KiB/s" />
    </div>
  );
}

function UpgradeSteps() {
  const steps = useStore(upgradeSteps);
  if (!steps) return null;
  return (
    <ol class="steps" id="upgrade-steps" aria-label="Upgrade steps">
      {STEPS.map((name, i) => (
        <li key={name} class={`step step-${steps.states[i]}`} data-state={steps.states[i]}>
          <span class="step-name">{name}</span> <span class="step-state">{steps.states[i] === 'todo' ? '' : steps.states[i]}</span>
          {steps.detail[i] ? <span class="step-detail"> — {steps.detail[i]}</span> : null}
        </li>
      ))}
    </ol>
  );
}

export function ImagesPanel(_: { active: boolean }) {
  const connected = useConnected();
  const [slots, setSlots] = useState<SlotCard[]>([]);
  const [fw, setFw] = useState<Firmware | undefined>();
  const [keyPem, setKeyPem] = useState('');
  const [noDowngrade, setNoDowngrade] = useState(false);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const list = useAction();
  const file = useAction();
  const verify = useAction();
  const act = useAction();

  // Only the latest read is shown: a read started before an upload finished must not overwrite one after it.
  const reads = useRef(0);
  const refresh = async () => {
    const read = ++reads.current;
    const found = await readSlots(connection.need());
    if (read === reads.current) setSlots(found);
  };
  useOnConnect(() => void list.run(refresh));

  const choose = (f: File | undefined) => {
    if (!f) return;
    setFw(undefined);
    upload.set(undefined);
    upgradeSteps.set(undefined);
    void file.run(async () => {
      const loaded = await loadFirmware(f);
      setFw(loaded);
      return `${loaded.file}: MCUboot image ${formatVersion(loaded.image.header.version)}, ${loaded.bytes.length} bytes.`;
    });
  };

  const checkBeforeSending = async (firmware: Firmware) => {
    const current = await readSlots(connection.need());
    await refuseTooBig(firmware, connection.need());
    if (noDowngrade) refuseDowngrade(firmware, current);
  };

  const sendOnly = () =>
    void act.run(async () => {
      const firmware = fw!;
      await checkBeforeSending(firmware);
      act.say('Uploading …');
      await uploadResuming(firmware, { noDowngrade }, act.say);
      await refresh();
      return `Upload complete: ${firmware.bytes.length} bytes of ${firmware.file}.`;
    });

  const upgrade = () =>
    void act.run(async () => {
      const firmware = fw!;
      const states: StepState[] = STEPS.map(() => 'todo');
      const detail: string[] = STEPS.map(() => '');
      const show = () => upgradeSteps.set({ states: [...states], detail: [...detail] });
      const step = async (i: number, run: () => Promise<string | void>) => {
        states[i] = 'doing';
        show();
        try {
          detail[i] = (await run()) ?? '';
          states[i] = 'done';
          show();
        } catch (err) {
          states[i] = 'failed';
          detail[i] = errorText(err);
          show();
          throw err;
        }
      };
      show();
      await step(0, async () => {
        await checkBeforeSending(firmware);
        await uploadResuming(firmware, { noDowngrade }, (text) => {
          detail[0] = text;
          show();
        });
        return `${bytesText(firmware.bytes.length)} sent`;
      });
      await step(1, async () => {
        await connection.need().call(image.setState, { hash: firmware.image.hash! });
        return 'the device will boot it once';
      });
      await step(2, async () => {
        connection.expectRestart();
        await connection.need().call(os.reset, {});
        return 'reset requested';
      });
      await step(3, async () => {
        await connection.waitForRestart((text) => {
          detail[3] = text;
          show();
        });
        const running = (await readSlots(connection.need())).find((s) => s.active && (s.image ?? 0) === 0);
        if (!running?.hash || toHex(running.hash) !== toHex(firmware.image.hash!)) {
          throw new SmpError(
            `The device came back running ${running?.version ?? 'no image'}, not the new image: MCUboot refused it or reverted. Check the image's signature and the slot's flags.`,
          );
        }
        return `running ${running.version}`;
      });
      await step(4, async () => {
        await connection.need().call(image.setState, { confirm: true });
        return 'the new image stays';
      });
      await refresh();
      return `Upgrade complete: ${formatVersion(firmware.image.header.version)} is running and confirmed.`;
    });

  return (
    <div class="grid">
      <Section title="Slots">
        <SlotCards slots={slots} busy={act.busy} act={(_what, run) => void act.run(async () => { const done = await run(); await refresh(); return done; })} />
        <div class="buttons">
          <button type="button" id="images-refresh" disabled={!connected || list.busy} onClick={() => void list.run(refresh)}>
            Refresh
          </button>
          <button
            type="button"
            id="reset"
            disabled={!connected || act.busy}
            onClick={() =>
              void act.run(async () => {
                connection.expectRestart();
                await connection.need().call(os.reset, {});
                await connection.waitForRestart(act.say);
                await refresh();
                return 'The device restarted and answers again.';
              })
            }
          >
            Reset device
          </button>
        </div>
        <Message outcome={list.outcome} />
      </Section>
      <Section title="Firmware file">
        <div
          class={dragging ? 'drop dragging' : 'drop'}
          id="drop-zone"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            choose(e.dataTransfer?.files[0]);
          }}
        >
          <p>Drop a signed .bin, .hex or dfu_application.zip here, or</p>
          <label for="firmware-file" class="button">Choose a file …</label>
          <input
            id="firmware-file"
            ref={fileInput}
            class="visually-hidden"
            type="file"
            accept=".bin,.hex,.zip,application/octet-stream,application/zip"
            onChange={(e) => choose(e.currentTarget.files?.[0])}
          />
        </div>
        <Message outcome={file.outcome} id="firmware-message" />
        {fw ? <FirmwareDetails fw={fw} /> : null}
      </Section>
      {fw ? (
        <Section title="Check the signature">
          <label for="public-key">Public key (PEM) the device's bootloader trusts</label>
          <textarea id="public-key" rows={5} value={keyPem} onInput={(e) => setKeyPem(e.currentTarget.value)} placeholder="-----BEGIN PUBLIC KEY-----" />
          <button
            type="button"
            id="verify"
            disabled={!keyPem.trim() || verify.busy}
            onClick={() =>
              void verify.run(async () => {
                const r = await verifyImage(fw.bytes, { key: keyPem });
                if (r.error) throw r.error;
                return `Signature verified: ${r.signatureType} with the given key; hash matches.`;
              })
            }
          >
            Verify
          </button>
          <Message outcome={verify.outcome} id="verify-message" />
        </Section>
      ) : null}
      {fw ? (
        <Section title="Send">
          <label>
            <input type="checkbox" id="no-downgrade" checked={noDowngrade} onChange={(e) => setNoDowngrade(e.currentTarget.checked)} /> Refuse
            downgrades (checked here, and asked of the device)
          </label>
          <div class="buttons">
            <button type="button" id="upload" disabled={!connected || act.busy} onClick={sendOnly}>
              Upload only
            </button>
            <button type="button" id="upgrade" class="primary" disabled={!connected || act.busy} onClick={upgrade}>
              Upgrade (upload, test, reset, confirm)
            </button>
          </div>
          <UploadProgress />
          <UpgradeSteps />
        </Section>
      ) : null}
      <Message outcome={act.outcome} id="images-message" />
    </div>
  );
}
