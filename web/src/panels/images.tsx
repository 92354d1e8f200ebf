/**
 * Images: the slots as cards; a dropped .bin/.hex/.zip shown (header, version, TLVs, hash of each image) and checked
 * (slot size, signature with the user's key) before it is sent; upload of each image to its image number with speed
 * and ETA; test, confirm, erase, reset; the one-click upgrade.
 */
import { useRef, useState } from 'preact/hooks';
import { Chart } from '../chart.js';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { loadFirmware, type Firmware, type FirmwareImage } from '../firmware.js';
import {
  compareVersions,
  formatVersion,
  imageFlagNames,
  installedImageHash,
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
  /** The image being sent, when the file has more than one. */
  current?: string;
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
  const names = imageFlagNames(flags);
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

/** "2.0.0" for one image; "image 0 2.0.0 and image 1 3.1.0" for several. */
function versionsText(parts: FirmwareImage[]): string {
  if (parts.length === 1) return formatVersion(parts[0]!.image.header.version);
  return parts.map((part) => `image ${part.imageNumber} ${formatVersion(part.image.header.version)}`).join(' and ');
}

function imageLabel(part: FirmwareImage): string {
  return `image ${part.imageNumber}${part.from ? ` (${part.from})` : ''}`;
}

/** How a message names one image of `fw`: the file itself when it holds one image. */
function partName(fw: Firmware, part: FirmwareImage): string {
  return fw.images.length > 1 ? `${fw.file}'s ${imageLabel(part)}` : fw.file;
}

/** The slot image `imageNumber` runs from: the active one, or its primary slot when the device marks none active. */
function runningSlot(slots: SlotCard[], imageNumber: number): SlotCard | undefined {
  const ofImage = slots.filter((s) => (s.image ?? 0) === imageNumber);
  return ofImage.find((s) => s.active) ?? ofImage.find((s) => s.slot === 0);
}

const sameHash = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => Boolean(a && b && toHex(a) === toHex(b));

/**
 * Uploads each image to its image number, resuming after a lost link (the device keeps what it got: the same
 * sha256 resumes). One progress for all of them.
 */
async function uploadResuming(parts: FirmwareImage[], options: { noDowngrade: boolean }, say: (text: string) => void): Promise<void> {
  const total = parts.reduce((sum, part) => sum + part.bytes.length, 0);
  const started = performance.now();
  const state: UploadState = { done: 0, total, times: [0], speeds: [0], etaSeconds: Number.NaN };
  upload.set({ ...state });
  let lastSample = { t: started, done: 0 };
  let sentBefore = 0;
  for (const part of parts) {
    if (parts.length > 1) state.current = imageLabel(part);
    for (let resumes = 0; ; resumes++) {
      const client = resumes === 0 ? connection.need() : await connection.reconnected();
      try {
        await imageUpload(client, part.bytes, {
          image: part.imageNumber,
          upgrade: options.noDowngrade,
          onProgress: ({ done, resumedFrom }) => {
            const now = performance.now();
            if (resumedFrom !== undefined) state.resumedFrom = resumedFrom;
            state.done = sentBefore + done;
            if (now - lastSample.t >= 250 || state.done === total) {
              const speed = (state.done - lastSample.done) / 1024 / ((now - lastSample.t) / 1000) || 0;
              state.times = [...state.times, (now - started) / 1000];
              state.speeds = [...state.speeds, Math.max(0, speed)];
              const average = state.done / ((now - started) / 1000);
              state.etaSeconds = average > 0 ? (total - state.done) / average : Number.NaN;
              lastSample = { t: now, done: state.done };
              upload.set({ ...state });
            }
          },
        });
        break;
      } catch (err) {
        const lost = client.closeReason !== undefined || err instanceof TransportError;
        if (!lost || resumes >= MAX_RESUMES) throw err;
        say(`The link was lost at ${bytesText(state.done)} (${errorText(err)}). Waiting for the device to resume the upload …`);
        await connection.reconnected();
        say(`Reconnected: resuming the upload from where the device stopped …`);
      }
    }
    sentBefore += part.bytes.length;
  }
  upload.set({ ...state, done: total, etaSeconds: 0, current: undefined });
}

function refuseDowngrade(fw: Firmware, parts: FirmwareImage[], slots: SlotCard[]): void {
  for (const part of parts) {
    const running = runningSlot(slots, part.imageNumber);
    if (!running) continue;
    const newVersion = part.image.header.version;
    if (compareVersions(newVersion, parseVersion(running.version)) <= 0) {
      throw new SmpError(
        `Refused: ${partName(fw, part)} is version ${formatVersion(newVersion)}, not newer than the running ${running.version}. ` +
          'Turn off "Refuse downgrades" to send it anyway.',
      );
    }
  }
}

/** The most bytes image `imageNumber` may have (its secondary slot's size), or undefined when the device does not say. */
async function uploadLimit(c: SmpClient, imageNumber: number): Promise<{ size: number; slot: number } | undefined> {
  try {
    const info = await c.call(image.slotInfo, {});
    const target = info.images.find((i) => i.image === imageNumber);
    const secondary = target?.slots.find((s) => s.slot === 1);
    const size = target?.max_image_size ?? secondary?.size;
    return size === undefined ? undefined : { size, slot: secondary?.slot ?? 1 };
  } catch {
    return undefined;
  }
}

async function refuseTooBig(fw: Firmware, parts: FirmwareImage[], c: SmpClient): Promise<void> {
  for (const part of parts) {
    const limit = await uploadLimit(c, part.imageNumber);
    if (limit && part.bytes.length > limit.size) {
      const slot = `${part.imageNumber ? `image ${part.imageNumber}'s ` : ''}slot ${limit.slot}`;
      throw new SmpError(`${partName(fw, part)} is ${part.bytes.length} bytes: ${slot} holds at most ${limit.size}. Build a smaller image.`);
    }
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
                <button
                  type="button"
                  disabled={!connected || busy}
                  onClick={() => act('test', async () => (await setState({ hash: s.hash! }), `Slot ${s.slot} marked for test: reset to boot it.`))}
                >
                  Test
                </button>
              ) : null}
              {s.active && !s.confirmed ? (
                <button
                  type="button"
                  disabled={!connected || busy}
                  onClick={() => act('confirm', async () => (await setState({ confirm: true }), 'The running image is confirmed.'))}
                >
                  Confirm
                </button>
              ) : null}
              {!s.active && s.hash ? (
                <button
                  type="button"
                  disabled={!connected || busy}
                  onClick={() =>
                    act('erase', async () => {
                      // The erase command numbers slots across images: image N's slots are 2N and 2N + 1.
                      await connection.need().call(image.erase, { slot: 2 * (s.image ?? 0) + s.slot });
                      return `Slot ${s.slot}${s.image ? ` of image ${s.image}` : ''} erased.`;
                    })
                  }
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

function ImageDetails({ part }: { part: FirmwareImage }) {
  const h = part.image.header;
  const n = part.imageNumber;
  return (
    <section class="fw-image" id={`fw-image-${n}`} aria-labelledby={`fw-image-${n}-heading`}>
      <h4 id={`fw-image-${n}-heading`}>Image {n}</h4>
      <dl class="facts">
        {part.from ? (
          <div class="fact">
            <dt>From</dt>
            <dd class="fw-from">{part.from}</dd>
          </div>
        ) : null}
        <div class="fact">
          <dt>Goes to</dt>
          <dd class="fw-target">image {n}, slot 1</dd>
        </div>
        <div class="fact">
          <dt>Version</dt>
          <dd class="fw-version">{formatVersion(h.version)}</dd>
        </div>
        <div class="fact">
          <dt>Size</dt>
          <dd>
            {part.bytes.length} bytes (header {h.hdrSize}, body {h.imgSize}, TLVs {part.image.size - h.hdrSize - h.imgSize})
          </dd>
        </div>
        <div class="fact">
          <dt>Load address</dt>
          <dd>0x{h.loadAddr.toString(16)}</dd>
        </div>
        <div class="fact">
          <dt>Header flags</dt>
          <dd>{headerFlags(h.flags)}</dd>
        </div>
        <div class="fact">
          <dt>Hash ({part.image.hashAlgorithm ?? 'none'})</dt>
          <dd class="hash fw-hash">{part.image.hash ? toHex(part.image.hash) : '—'}</dd>
        </div>
      </dl>
      <table class="tlvs">
        <caption>TLVs of image {n}</caption>
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Name</th>
            <th scope="col">Length</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {part.image.tlvs.map((t) => (
            <tr key={t.offset}>
              <td>0x{t.type.toString(16)}</td>
              <td>{t.name}</td>
              <td>{t.value.length}</td>
              <td class="hash">
                {toHex(t.value.subarray(0, 32))}
                {t.value.length > 32 ? '…' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function FirmwareDetails({ fw }: { fw: Firmware }) {
  return (
    <div id="firmware-details">
      <dl class="facts">
        <div class="fact">
          <dt>File</dt>
          <dd id="fw-file">{fw.file}</dd>
        </div>
        <div class="fact">
          <dt>Images</dt>
          <dd id="fw-count">{fw.images.length}</dd>
        </div>
      </dl>
      {fw.images.map((part) => (
        <ImageDetails key={part.imageNumber} part={part} />
      ))}
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
        {bytesText(u.done)} of {bytesText(u.total)} ({pct} %), {speed.toFixed(1)} KiB/s,{' '}
        {u.done >= u.total ? 'done' : `about ${durationText(u.etaSeconds)} left`}
        {u.resumedFrom ? `, resumed at ${bytesText(u.resumedFrom)}` : ''}
        {u.current && u.done < u.total ? `; sending ${u.current}` : ''}
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
      if (loaded.images.length === 1) {
        const only = loaded.images[0]!;
        return `${loaded.file}: MCUboot image ${formatVersion(only.image.header.version)}, ${only.bytes.length} bytes.`;
      }
      return `${loaded.file}: ${loaded.images.length} MCUboot images: ${versionsText(loaded.images)}.`;
    });
  };

  const checkBeforeSending = async (firmware: Firmware, parts: FirmwareImage[]) => {
    const current = await readSlots(connection.need());
    await refuseTooBig(firmware, parts, connection.need());
    if (noDowngrade) refuseDowngrade(firmware, parts, current);
  };

  const sendOnly = () =>
    void act.run(async () => {
      const firmware = fw!;
      await checkBeforeSending(firmware, firmware.images);
      act.say('Uploading …');
      await uploadResuming(firmware.images, { noDowngrade }, act.say);
      await refresh();
      const sent = firmware.images.map((part) => part.bytes.length).reduce((a, b) => a + b);
      return firmware.images.length === 1
        ? `Upload complete: ${sent} bytes of ${firmware.file}.`
        : `Upload complete: ${sent} bytes of ${firmware.file}, ${firmware.images.map((part) => `image ${part.imageNumber} to image ${part.imageNumber}'s slot 1`).join(', ')}.`;
    });

  const upgrade = () =>
    void act.run(async () => {
      const firmware = fw!;
      const before = await readSlots(connection.need());
      const running = firmware.images.filter((part) => sameHash(runningSlot(before, part.imageNumber)?.hash, installedImageHash(part.image)));
      const todo = firmware.images.filter((part) => !running.includes(part));
      if (todo.length === 0) return `Nothing to do: ${versionsText(firmware.images)} already running.`;
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
      const one = firmware.images.length === 1;
      show();
      await step(0, async () => {
        await checkBeforeSending(firmware, todo);
        await uploadResuming(todo, { noDowngrade }, (text) => {
          detail[0] = text;
          show();
        });
        const sent = `${one ? bytesText(todo[0]!.bytes.length) : todo.map((part) => `image ${part.imageNumber}: ${bytesText(part.bytes.length)}`).join(', ')} sent`;
        return running.length ? `${sent}; ${versionsText(running)} already running, not sent` : sent;
      });
      await step(1, async () => {
        for (const part of todo) await connection.need().call(image.setState, { hash: part.image.hash! });
        return one ? 'the device will boot it once' : `${todo.map((part) => `image ${part.imageNumber}`).join(', ')} will boot once`;
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
        const after = await readSlots(connection.need());
        for (const part of todo) {
          const now = runningSlot(after, part.imageNumber);
          // A compressed image runs decompressed: its DECOMP_SHA is what the device lists.
          if (!sameHash(now?.hash, installedImageHash(part.image))) {
            throw new SmpError(
              `The device came back running ${now?.version ?? 'no image'}${one ? '' : ` as image ${part.imageNumber}`}, not the new image: MCUboot refused it or reverted. Check the image's signature and the slot's flags.`,
            );
          }
        }
        return `running ${versionsText(todo)}`;
      });
      await step(4, async () => {
        // Without a hash Zephyr confirms the image it runs from (image 0); the others by their hash.
        for (const part of todo)
          await connection.need().call(image.setState, part.imageNumber === 0 ? { confirm: true } : { hash: installedImageHash(part.image)!, confirm: true });
        return one ? 'the new image stays' : 'the new images stay';
      });
      await refresh();
      return `Upgrade complete: ${versionsText(todo)} ${todo.length === 1 ? 'is' : 'are'} running and confirmed.`;
    });

  return (
    <div class="grid">
      <Section title="Slots">
        <SlotCards
          slots={slots}
          busy={act.busy}
          act={(_what, run) =>
            void act.run(async () => {
              const done = await run();
              await refresh();
              return done;
            })
          }
        />
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
          <label for="firmware-file" class="button">
            Choose a file …
          </label>
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
                const signatures: string[] = [];
                for (const part of fw.images) {
                  const r = await verifyImage(part.bytes, { key: keyPem });
                  if (r.error) throw fw.images.length === 1 ? r.error : new Error(`Image ${part.imageNumber} (${part.from}): ${r.error.message}`);
                  signatures.push(`${r.signatureType}`);
                }
                if (fw.images.length === 1) return `Signature verified: ${signatures[0]} with the given key; hash matches.`;
                const each = fw.images.map((part, i) => `image ${part.imageNumber} ${signatures[i]}`);
                return `Signatures verified with the given key: ${each.join(', ')}; hashes match.`;
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
            <input type="checkbox" id="no-downgrade" checked={noDowngrade} onChange={(e) => setNoDowngrade(e.currentTarget.checked)} /> Refuse downgrades
            (checked here, and asked of the device)
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
