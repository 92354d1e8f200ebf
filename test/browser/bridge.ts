/**
 * The Node ends of the page's fake navigator.serial / navigator.bluetooth (page/*.js): functions exposed to the
 * page that forward its bytes to a real pseudo-terminal or to a SimulatedGattPeer, and long polls that hand
 * the page what came back.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { SerialPort } from 'serialport';
import type { SimulatedGattPeer } from '../../src/transport/ble-sim.js';

const PAGE_SCRIPTS = fileURLToPath(new URL('./page', import.meta.url));

/** Items for a long poll: `take` resolves with everything queued (waiting for at least one), or null once ended. */
class Mailbox<T> {
  private items: T[] = [];
  private waiter: ((items: T[] | null) => void) | undefined;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  take(): Promise<T[] | null> {
    if (this.items.length || this.ended) return Promise.resolve(this.drain());
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.(this.drain());
  }

  private drain(): T[] | null {
    if (this.items.length === 0 && this.ended) return null;
    return this.items.splice(0);
  }
}

/**
 * Where the USB device is for the page: plugged in, unplugged, or back with another identity (another product id
 * or no serial number after a reset), which the browser lists no more until the user picks it again.
 */
type Presence = 'plugged-in' | 'unplugged' | 'new-identity';

export interface SerialBridge {
  baudRates: number[];
  close(): Promise<void>;
  /** The device goes away (as a USB CDC ACM device does during a reset): the open port is lost, opening fails. */
  unplug(): Promise<void>;
  /** The device is back; with `newIdentity` the browser needs a new pick (requestPort) before it lists it. */
  plugIn(options?: { newIdentity?: boolean }): void;
}

/** Gives the page a navigator.serial whose port is the pseudo-terminal `ptyPath`. */
export async function bridgeWebSerial(page: Page, ptyPath: string): Promise<SerialBridge> {
  let presence: Presence = 'plugged-in';
  let port: SerialPort | undefined;
  let received = new Mailbox<number>();
  const baudRates: number[] = [];
  const closePort = () =>
    new Promise<void>((resolve) => {
      const p = port;
      port = undefined;
      received.end();
      if (!p?.isOpen) return resolve();
      p.close(() => resolve());
    });
  await page.exposeFunction('__serialListed', () => presence === 'plugged-in');
  await page.exposeFunction('__serialPicked', () => {
    if (presence === 'new-identity') presence = 'plugged-in';
  });
  await page.exposeFunction('__serialOpen', async (baudRate: number) => {
    if (presence !== 'plugged-in') throw new Error('The device has been lost.');
    baudRates.push(baudRate);
    received = new Mailbox<number>();
    const opened = new SerialPort({ path: ptyPath, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => opened.open((err) => (err ? reject(err) : resolve())));
    const mailbox = received;
    opened.on('data', (data: Buffer) => {
      for (const b of data) mailbox.push(b);
    });
    opened.on('close', () => mailbox.end());
    port = opened;
  });
  await page.exposeFunction('__serialRead', () => received.take());
  await page.exposeFunction(
    '__serialWrite',
    (bytes: number[]) =>
      new Promise<void>((resolve, reject) => {
        if (!port) return reject(new Error('The port is closed.'));
        port.write(Buffer.from(bytes), (err) => (err ? reject(err) : resolve()));
      }),
  );
  await page.exposeFunction('__serialClose', closePort);
  await page.addInitScript({ path: join(PAGE_SCRIPTS, 'fake-web-serial.js') });
  return {
    baudRates,
    close: closePort,
    async unplug() {
      presence = 'unplugged';
      await closePort();
    },
    plugIn(options = {}) {
      presence = options.newIdentity ? 'new-identity' : 'plugged-in';
    },
  };
}

/** Gives the page a navigator.bluetooth whose one device's SMP characteristic is `peer`. */
export async function bridgeWebBluetooth(page: Page, peer: SimulatedGattPeer): Promise<void> {
  const notifications = new Mailbox<number[]>();
  peer.onDisconnect(() => notifications.end());
  await page.exposeFunction('__bleConnect', () => {
    if (!peer.isConnected) throw new Error('GATT Server is disconnected.');
  });
  await page.exposeFunction('__bleWrite', (bytes: number[]) => peer.writeWithoutResponse(new Uint8Array(bytes)));
  await page.exposeFunction('__bleSubscribe', () => peer.subscribe((data) => notifications.push(Array.from(data))));
  await page.exposeFunction('__bleNotifications', () => notifications.take());
  await page.exposeFunction('__bleDisconnect', () => peer.disconnect());
  await page.addInitScript({ path: join(PAGE_SCRIPTS, 'fake-web-bluetooth.js') });
}
