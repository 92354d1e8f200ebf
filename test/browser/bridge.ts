/**
 * The Node ends of the page's fake navigator.serial / navigator.bluetooth (page/*.js): functions exposed to the
 * page that forward its bytes to a real pseudo-terminal or to a SimulatedGattPeer, and long polls that hand
 * the page what came back.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { SerialPort } from 'serialport';
import type { SimulatedGattPeer } from '../../src/device/ble-sim.js';

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

/** Gives the page a navigator.serial whose port is the pseudo-terminal `ptyPath`. Returns a closer. */
export async function bridgeWebSerial(page: Page, ptyPath: string): Promise<{ baudRates: number[]; close(): Promise<void> }> {
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
  await page.exposeFunction('__serialOpen', async (baudRate: number) => {
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
  return { baudRates, close: closePort };
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
