/** The example page: connect over Web Serial or Web Bluetooth, list, upload, test, confirm, reset. */
import { SmpClient } from '../src/client/client.js';
import { imageUpload } from '../src/client/upload.js';
import { image, type ImageSlot } from '../src/groups/image.js';
import { os } from '../src/groups/os.js';
import { formatVersion } from '../src/image/header.js';
import { parseImage, toHex, type McubootImage } from '../src/image/image.js';
import type { SmpTransport } from '../src/transport/transport.js';
import { openWebBluetoothTransport, requestBluetoothDevice } from '../src/transport/web-bluetooth.js';
import { requestSerialPort, WebSerialTransport } from '../src/transport/web-serial.js';

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

const ui = {
  baud: element<HTMLInputElement>('baud'),
  attMtu: element<HTMLInputElement>('att-mtu'),
  reassembly: element<HTMLInputElement>('reassembly'),
  connect: element<HTMLButtonElement>('connect'),
  disconnect: element<HTMLButtonElement>('disconnect'),
  status: element<HTMLParagraphElement>('status'),
  list: element<HTMLButtonElement>('list'),
  reset: element<HTMLButtonElement>('reset'),
  table: element<HTMLTableElement>('images'),
  file: element<HTMLInputElement>('file'),
  fileInfo: element<HTMLSpanElement>('file-info'),
  upload: element<HTMLButtonElement>('upload'),
  progress: element<HTMLProgressElement>('progress'),
  progressText: element<HTMLSpanElement>('progress-text'),
};

let client: SmpClient | undefined;
let firmware: Uint8Array | undefined;
let busy = false;

function showStatus(text: string, isError = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', isError);
}

function refreshButtons(): void {
  const ready = client !== undefined && !busy;
  ui.connect.disabled = client !== undefined || busy;
  ui.disconnect.disabled = client === undefined;
  ui.list.disabled = !ready;
  ui.reset.disabled = !ready;
  ui.upload.disabled = !ready || firmware === undefined;
  for (const b of ui.table.querySelectorAll('button')) b.disabled = !ready;
}

/** Runs one user action: one at a time, errors shown in the status line. */
async function action(run: () => Promise<void>): Promise<void> {
  busy = true;
  refreshButtons();
  try {
    await run();
  } catch (err) {
    showStatus(`Error: ${err instanceof Error ? err.message : String(err)}`, true);
  } finally {
    busy = false;
    refreshButtons();
  }
}

function connected(): SmpClient {
  if (!client) throw new Error('not connected');
  return client;
}

async function openTransport(): Promise<SmpTransport> {
  const conntype = document.querySelector<HTMLInputElement>('input[name=conntype]:checked')?.value;
  if (conntype === 'bluetooth') {
    const device = await requestBluetoothDevice();
    return openWebBluetoothTransport(device, { attMtu: Number(ui.attMtu.value), reassembly: ui.reassembly.checked });
  }
  return WebSerialTransport.open(await requestSerialPort(), { baudRate: Number(ui.baud.value) });
}

function flags(slot: ImageSlot): string {
  const names = ['bootable', 'active', 'confirmed', 'pending', 'permanent'] as const;
  return names.filter((n) => slot[n]).join(' ');
}

function button(label: string, run: () => Promise<void>): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.addEventListener('click', () => void action(run));
  return b;
}

function showImages(slots: ImageSlot[]): void {
  const body = ui.table.tBodies[0]!;
  body.replaceChildren(
    ...slots.map((slot) => {
      const row = document.createElement('tr');
      const hash = slot.hash ? toHex(slot.hash) : '';
      for (const [text, cls] of [[String(slot.image ?? 0)], [String(slot.slot)], [slot.version], [hash, 'hash'], [flags(slot)]]) {
        const cell = row.insertCell();
        cell.textContent = text ?? '';
        if (cls) cell.className = cls;
      }
      const actions = row.insertCell();
      if (slot.hash && !slot.active && !slot.pending) {
        const h = slot.hash;
        actions.append(button('Test', () => setState({ hash: h }, 'marked for test; reset to boot it')));
      }
      if (slot.active && !slot.confirmed) actions.append(button('Confirm', () => setState({ confirm: true }, 'confirmed')));
      return row;
    }),
  );
  ui.table.hidden = false;
}

async function listImages(): Promise<void> {
  const { images } = await connected().call(image.state, {});
  showImages(images);
  showStatus(`${images.length} image slot(s) listed.`);
}

async function setState(request: { hash?: Uint8Array; confirm?: boolean }, done: string): Promise<void> {
  showImages((await connected().call(image.setState, request)).images);
  showStatus(`Image ${done}.`);
}

async function connect(): Promise<void> {
  showStatus('Connecting ...');
  const transport = await openTransport();
  const c = new SmpClient(transport, { timeoutMs: 5000 });
  transport.onClose((err) => {
    if (client !== c) return;
    client = undefined;
    showStatus(err ? `Disconnected: ${err.message}` : 'Disconnected.', err !== undefined);
    refreshButtons();
  });
  client = c;
  showStatus('Connected.');
}

async function disconnect(): Promise<void> {
  const c = client;
  client = undefined;
  await c?.close();
  showStatus('Disconnected.');
}

async function chooseFile(): Promise<void> {
  firmware = undefined;
  ui.fileInfo.textContent = '';
  const file = ui.file.files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let parsed: McubootImage;
  try {
    parsed = parseImage(bytes);
  } catch (err) {
    throw new Error(`${file.name} is not an MCUboot image: ${err instanceof Error ? err.message : String(err)}`);
  }
  ui.fileInfo.textContent = `${file.name}: version ${formatVersion(parsed.header.version)}, ${bytes.length} bytes, hash ${
    parsed.hash ? toHex(parsed.hash) : 'none'
  }`;
  firmware = bytes;
}

async function upload(): Promise<void> {
  const bytes = firmware;
  if (!bytes) return;
  ui.progress.max = bytes.length;
  ui.progress.value = 0;
  showStatus('Uploading ...');
  await imageUpload(connected(), bytes, {
    onProgress: ({ done, total }) => {
      ui.progress.value = done;
      ui.progressText.textContent = `${done} / ${total} bytes`;
    },
  });
  await listImages();
  showStatus(`Upload complete: ${bytes.length} bytes.`);
}

async function reset(): Promise<void> {
  await connected().call(os.reset, {});
  showStatus('Reset requested.');
}

ui.connect.addEventListener('click', () => void action(connect));
ui.disconnect.addEventListener('click', () => void action(disconnect));
ui.list.addEventListener('click', () => void action(listImages));
ui.reset.addEventListener('click', () => void action(reset));
ui.upload.addEventListener('click', () => void action(upload));
ui.file.addEventListener('change', () => void action(chooseFile));
refreshButtons();
