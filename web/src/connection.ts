/**
 * The link to the device: opening it over Web Serial or Web Bluetooth, remembering it, reopening it by itself
 * after a reset or a lost link, and the SMP client on top (every frame goes to the log).
 */
import {
  BleTransport,
  requestBluetoothDevice,
  requestSerialPort,
  SmpClient,
  TransportError,
  waitForReboot,
  WebSerialTransport,
  webBluetoothCharacteristic,
  type SmpTransport,
  type WebBluetoothDevice,
  type WebSerialPort,
} from './lib.js';
import { errorText } from './errors.js';
import { recordFrame } from './frames.js';
import { Store } from './store.js';

export interface LinkSettings {
  kind: 'serial' | 'bluetooth';
  baud: number;
  /** Console: base64 lines with CRC (Zephyr's shell UART and CDC ACM); raw: bare SMP packets. */
  framing: 'console' | 'raw';
  namePrefix: string;
  /** Browsers do not tell the page the negotiated ATT MTU: asked, 247 by default, lowered to 23 on write errors. */
  attMtu: number;
  reassembly: boolean;
  timeoutMs: number;
  /** How long a lost device may stay away before the browser is assumed to need a new pick. */
  reconnectSeconds: number;
}

export const DEFAULT_SETTINGS: LinkSettings = {
  kind: 'serial',
  baud: 115200,
  framing: 'console',
  namePrefix: '',
  attMtu: 247,
  reassembly: false,
  timeoutMs: 5000,
  reconnectSeconds: 30,
};

export const MINIMUM_ATT_MTU = 23;

export type Phase = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'needs-gesture';

export interface LinkState {
  phase: Phase;
  message: string;
  error?: boolean;
  deviceName?: string;
}

/** What is remembered of the last device between visits. */
export interface LastDevice {
  kind: 'serial' | 'bluetooth';
  name: string;
  usbVendorId?: number;
  usbProductId?: number;
}

interface SerialPortWithInfo extends WebSerialPort {
  getInfo?(): { usbVendorId?: number; usbProductId?: number };
}

interface SerialApi extends Partial<EventTarget> {
  getPorts(): Promise<SerialPortWithInfo[]>;
}

interface BluetoothApi {
  getDevices?(): Promise<WebBluetoothDevice[]>;
}

const SETTINGS_KEY = 'mcumgr-web:settings';
const LAST_DEVICE_KEY = 'mcumgr-web:last-device';
const RECONNECT_RETRY_MS = 1000;
/** How long a restarting device may stay silent once the link is back. */
const RESTART_WAIT_MS = 60_000;

function load<T>(key: string): T | undefined {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

function serialApi(): SerialApi | undefined {
  return (navigator as unknown as { serial?: SerialApi }).serial;
}

function bluetoothApi(): BluetoothApi | undefined {
  return (navigator as unknown as { bluetooth?: BluetoothApi }).bluetooth;
}

function usbName(info: { usbVendorId?: number; usbProductId?: number } | undefined): string {
  if (info?.usbVendorId === undefined) return 'serial port';
  const hex = (n: number | undefined) => (n ?? 0).toString(16).padStart(4, '0');
  return `USB ${hex(info.usbVendorId)}:${hex(info.usbProductId)}`;
}

/** Resolves after `ms`, or earlier when `wake` fires `connect` (navigator.serial: a permitted port plugged in). */
function pause(ms: number, wake?: Partial<EventTarget>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      wake?.removeEventListener?.('connect', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    wake?.addEventListener?.('connect', done);
  });
}

export class Connection {
  readonly state = new Store<LinkState>({ phase: 'disconnected', message: 'Not connected.' });
  readonly settings = new Store<LinkSettings>({ ...DEFAULT_SETTINGS, ...load<Partial<LinkSettings>>(SETTINGS_KEY) });
  readonly lastDevice = new Store<LastDevice | undefined>(load<LastDevice>(LAST_DEVICE_KEY));
  /** Notices about the link that are not errors of one action (an MTU fallback). */
  readonly notice = new Store<string>('');
  /** How many resets the device has come back from: panels read the restarted device again. */
  readonly restarts = new Store<number>(0);

  private current: SmpClient | undefined;
  private port: SerialPortWithInfo | undefined;
  private device: WebBluetoothDevice | undefined;
  /** Bumped whenever the user connects or disconnects: a reconnect loop of an older generation stops. */
  private generation = 0;
  private restarting = false;
  private waiters: (() => void)[] = [];

  get client(): SmpClient | undefined {
    return this.current;
  }

  /** The connected client, or a clear error. */
  need(): SmpClient {
    if (!this.current)
      throw new TransportError(
        this.state.value.phase === 'reconnecting' ? 'The device is reconnecting: wait for it.' : 'Not connected: connect a device first.',
      );
    return this.current;
  }

  saveSettings(change: Partial<LinkSettings>): void {
    this.settings.update((s) => ({ ...s, ...change }));
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(this.settings.value));
  }

  /** Asks the user for a device (must run in a click) and connects. */
  async connect(): Promise<void> {
    const generation = ++this.generation;
    await this.dropCurrent();
    const s = this.settings.value;
    this.state.set({ phase: 'connecting', message: s.kind === 'serial' ? 'Choose the serial port …' : 'Choose the Bluetooth device …' });
    try {
      if (s.kind === 'serial') this.port = (await requestSerialPort()) as SerialPortWithInfo;
      else this.device = await requestBluetoothDevice(s.namePrefix || undefined);
      await this.open(generation);
    } catch (err) {
      if (generation === this.generation) this.state.set({ phase: 'disconnected', message: errorText(err), error: true });
      throw err;
    }
  }

  /** Connects to the remembered device without a chooser, when the browser still allows it. */
  async reconnectLast(): Promise<void> {
    const generation = ++this.generation;
    const last = this.lastDevice.value;
    if (!last) throw new TransportError('No device remembered yet: connect one first.');
    this.saveSettings({ kind: last.kind });
    this.state.set({ phase: 'connecting', message: `Reconnecting to ${last.name} …` });
    try {
      if (last.kind === 'serial') this.port = await this.findPermittedPort();
      else this.device = await this.findPermittedBluetoothDevice(last);
      await this.open(generation);
    } catch (err) {
      if (generation === this.generation) this.state.set({ phase: 'disconnected', message: errorText(err), error: true });
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    this.generation++;
    await this.dropCurrent();
    this.state.set({ phase: 'disconnected', message: 'Disconnected.' });
  }

  /** Tells the connection that the device is about to restart: a lost link is then expected. */
  expectRestart(): void {
    this.restarting = true;
  }

  /**
   * After the device answered a reset: waits (the library's waitForReboot) until the restarted device answers,
   * through this connection's own reconnect when the link went away (a USB CDC ACM port re-enumerating).
   */
  waitForRestart(say: (text: string) => void): Promise<SmpClient> {
    const status = { down: 'The device is restarting …', reopening: 'Waiting for the link to come back …', probing: 'Waiting for the device to answer …' };
    return waitForReboot(this.need(), {
      timeoutMs: RESTART_WAIT_MS,
      reopen: () => this.reconnected(),
      onStatus: (s) => say(status[s]),
    })
      .then((client) => {
        this.restarts.update((n) => n + 1);
        return client;
      })
      .finally(() => {
        this.restarting = false;
      });
  }

  /** The client once the reconnect loop has reopened the link; rejects when it gave up. */
  async reconnected(): Promise<SmpClient> {
    for (;;) {
      if (this.current && !this.current.closeReason) return this.current;
      const phase = this.state.value.phase;
      if (phase === 'disconnected' || phase === 'needs-gesture') throw new TransportError(this.state.value.message);
      await this.nextChange();
    }
  }

  /** Resolves at the next connect, loss or give-up. */
  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async findPermittedPort(): Promise<SerialPortWithInfo> {
    const api = serialApi();
    if (!api) throw new TransportError('This browser has no Web Serial: use Chrome, Edge or Opera on a desktop.');
    const ports = await api.getPorts();
    const last = this.lastDevice.value;
    const found =
      (this.port && ports.includes(this.port) ? this.port : undefined) ??
      ports.find((p) => {
        const info = p.getInfo?.();
        return last?.usbVendorId === undefined || (info?.usbVendorId === last.usbVendorId && info?.usbProductId === last.usbProductId);
      });
    if (!found) throw new TransportError('The browser no longer lists the port: choose it again with Connect.');
    return found;
  }

  private async findPermittedBluetoothDevice(last: LastDevice): Promise<WebBluetoothDevice> {
    if (this.device) return this.device;
    const devices = (await bluetoothApi()?.getDevices?.()) ?? [];
    const found = devices.find((d) => d.name === last.name);
    if (!found) throw new TransportError('This browser cannot reopen a Bluetooth device without asking: choose it again with Connect.');
    return found;
  }

  private async openTransport(): Promise<{ transport: SmpTransport; name: string }> {
    const s = this.settings.value;
    if (s.kind === 'serial') {
      const port = this.port!;
      const transport = await WebSerialTransport.open(port, { baudRate: s.baud, raw: s.framing === 'raw' });
      return { transport, name: usbName(port.getInfo?.()) };
    }
    const device = this.device!;
    // The ATT MTU is read on every write, so a refused write can lower it without reconnecting.
    const characteristic = await webBluetoothCharacteristic(device, s.attMtu);
    let attMtu = s.attMtu;
    const adjustable = Object.defineProperty({ ...characteristic }, 'attMtu', { get: () => attMtu });
    const transport = this.lowerMtuOnWriteErrors(await BleTransport.open(adjustable, { reassembly: s.reassembly }), attMtu, () => {
      attMtu = MINIMUM_ATT_MTU;
    });
    return { transport, name: device.name ?? 'Bluetooth device' };
  }

  /** A write the link refuses (an ATT MTU guessed too large) lowers the MTU to 23 for the writes after it. */
  private lowerMtuOnWriteErrors(transport: BleTransport, asked: number, lower: () => void): SmpTransport {
    if (asked <= MINIMUM_ATT_MTU) return transport;
    let lowered = false;
    return {
      get mtu() {
        return transport.mtu;
      },
      framingOverhead: transport.framingOverhead,
      onPacket: (listener) => transport.onPacket(listener),
      onClose: (listener) => transport.onClose(listener),
      close: () => transport.close(),
      send: (packet) =>
        transport.send(packet).catch((err: unknown) => {
          if (!lowered && err instanceof Error && /BLE write failed/.test(err.message)) {
            lowered = true;
            lower();
            this.saveSettings({ attMtu: MINIMUM_ATT_MTU });
            this.notice.set(
              `A write failed (${err.message}): the ATT MTU of ${asked} is too large for this link, so it is lowered to ` +
                `${MINIMUM_ATT_MTU} (writes of at most ${MINIMUM_ATT_MTU - 3} bytes). Try the action again.`,
            );
          }
          throw err;
        }),
    };
  }

  private async open(generation: number): Promise<void> {
    const { transport, name } = await this.openTransport();
    if (generation !== this.generation) {
      await transport.close();
      return;
    }
    const s = this.settings.value;
    const client = new SmpClient(transport, {
      timeoutMs: s.timeoutMs,
      onTrace: (direction, packet) => recordFrame(direction, packet),
    });
    transport.onClose((err) => {
      if (this.current !== client) return;
      this.current = undefined;
      if (err && generation === this.generation) void this.reconnect(generation, err);
      else this.state.set({ phase: 'disconnected', message: 'Disconnected.' });
      this.changed();
    });
    this.current = client;
    const info = this.port?.getInfo?.();
    const last: LastDevice = { kind: s.kind, name, ...(s.kind === 'serial' ? { usbVendorId: info?.usbVendorId, usbProductId: info?.usbProductId } : {}) };
    this.lastDevice.set(last);
    localStorage.setItem(LAST_DEVICE_KEY, JSON.stringify(last));
    const how = s.kind === 'serial' ? `${s.baud} baud, ${s.framing} framing` : `ATT MTU ${s.attMtu}`;
    this.state.set({ phase: 'connected', message: `Connected to ${name} (${how}).`, deviceName: name });
    this.changed();
  }

  private async reconnect(generation: number, lost: Error): Promise<void> {
    const started = Date.now();
    const giveUpMs = this.settings.value.reconnectSeconds * 1000;
    const why = this.restarting ? 'The device is restarting' : `The link was lost (${lost.message})`;
    const api = this.settings.value.kind === 'serial' ? serialApi() : undefined;
    for (let attempt = 1; generation === this.generation; attempt++) {
      const waited = Math.round((Date.now() - started) / 1000);
      this.state.set({ phase: 'reconnecting', message: `${why}. Waiting for it to come back: attempt ${attempt}, ${waited} s …` });
      try {
        if (this.settings.value.kind === 'serial') this.port = await this.findPermittedPort();
        await this.open(generation);
        return;
      } catch {
        // not back yet
      }
      if (Date.now() - started > giveUpMs) {
        if (generation !== this.generation) return;
        this.state.set({
          phase: 'needs-gesture',
          error: true,
          message:
            this.settings.value.kind === 'serial'
              ? `The device has not come back as the same USB device in ${giveUpMs / 1000} s. After a reset some devices return with another product id or without a serial number, and the browser then needs you to pick the port again.`
              : `The Bluetooth device has not come back in ${giveUpMs / 1000} s: pick it again when it advertises.`,
        });
        this.changed();
        return;
      }
      await pause(RECONNECT_RETRY_MS, api);
    }
  }

  private async dropCurrent(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    this.restarting = false;
    this.changed();
    await client?.close().catch(() => undefined);
  }
}

export const connection = new Connection();
