/** WebSerialTransport against the virtual device, through a Web Serial port made of real Web Streams. */
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { VirtualDevice } from '../../src/device/device.js';
import { image, os } from '../../src/groups/index.js';
import { createImage } from '../../src/image/sign.js';
import { StreamSerialTransport } from '../../src/transport/stream-serial.js';
import { TransportError } from '../../src/transport/transport.js';
import { requestSerialPort, WebSerialTransport, type WebSerialPort } from '../../src/transport/web-serial.js';
import { tempDir } from '../device/helpers.js';

/** A `SerialPort` whose other end is a byte channel of the test (here: the virtual device's serial transport). */
class FakeSerialPort implements WebSerialPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  baudRate: number | undefined;
  closeCalls = 0;
  failOpen: Error | undefined;
  failWrites = false;
  /** Writes never complete (hardware flow control holding the line). */
  stallWrites = false;
  stalledWrites = 0;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private disconnectListeners: (() => void)[] = [];
  private deviceRx: ((bytes: Uint8Array) => void) | undefined;

  /** The device end: what the page writes arrives at `onData`; `write` sends to the page. */
  readonly deviceEnd = {
    write: (bytes: Uint8Array) => this.controller?.enqueue(bytes.slice()),
    onData: (cb: (bytes: Uint8Array) => void) => {
      this.deviceRx = cb;
    },
  };

  async open(options: { baudRate: number }): Promise<void> {
    if (this.failOpen) throw this.failOpen;
    if (this.readable) throw new Error('The port is already open.');
    this.baudRate = options.baudRate;
    this.newReadable();
    this.writable = new WritableStream({
      write: (chunk) => {
        if (this.failWrites) throw new Error('write timed out');
        if (this.stallWrites) {
          this.stalledWrites++;
          return new Promise<void>(() => undefined);
        }
        this.deviceRx?.(chunk.slice());
      },
    });
  }

  async close(): Promise<void> {
    if (this.readable?.locked || this.writable?.locked) throw new Error('Cannot close a port with locked streams.');
    this.closeCalls++;
    this.readable = null;
    this.writable = null;
  }

  addEventListener(_type: 'disconnect', listener: () => void): void {
    this.disconnectListeners.push(listener);
  }

  /** A break / parity / framing error: the stream errors and a new one takes its place. */
  nonFatalError(): void {
    this.controller?.error(new Error('Break received'));
    this.newReadable();
  }

  /** The USB device disappears: the stream errors and none replaces it. */
  lose(): void {
    this.controller?.error(new Error('The device has been lost.'));
    this.readable = null;
  }

  unplug(): void {
    for (const l of this.disconnectListeners) l();
  }

  private newReadable(): void {
    this.readable = new ReadableStream({
      start: (c) => {
        this.controller = c;
      },
    });
  }
}

describe('WebSerialTransport', () => {
  let device: VirtualDevice | undefined;
  afterEach(async () => {
    await device?.close();
    device = undefined;
  });

  async function connect(options: { mtu?: number } = {}) {
    const port = new FakeSerialPort();
    const dev = (device = await VirtualDevice.create({ stateDir: tempDir() }));
    dev.server.attach(new StreamSerialTransport(port.deviceEnd, { mtu: dev.config.bufSize }));
    const transport = await WebSerialTransport.open(port, { baudRate: 921600, ...options });
    const closed = new Promise<Error | undefined>((r) => transport.onClose(r));
    return { port, transport, client: new SmpClient(transport, { timeoutMs: 3000 }), closed };
  }

  it('opens the port at the baud rate and talks SMP in the serial framing, MTU 512 by default', async () => {
    const { port, transport, client } = await connect();
    expect(port.baudRate).toBe(921600);
    expect(transport.mtu).toBe(512);
    expect((await client.call(os.echo, { d: 'over web serial' })).r).toBe('over web serial');
    const { images } = await client.call(image.state, {});
    expect(images[0]).toMatchObject({ slot: 0, active: true, confirmed: true });
    await expect(transport.send(new Uint8Array(513))).rejects.toThrow(/exceeds the transport MTU of 512/);
  });

  it('uploads an image (chunks sized for the serial framing) and the device holds its hash', async () => {
    const { client } = await connect();
    const img = createImage(
      new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff),
      { version: '2.0.0', padHeader: true },
    );
    await imageUpload(client, img);
    const slot1 = (await client.call(image.state, {})).images.find((s) => s.slot === 1);
    expect(slot1?.version).toBe('2.0.0');
  });

  it('keeps reading after a non-fatal read error (break, parity ...)', async () => {
    const { port, client } = await connect();
    expect((await client.call(os.echo, { d: 'a' })).r).toBe('a');
    port.nonFatalError();
    expect((await client.call(os.echo, { d: 'b' })).r).toBe('b');
  });

  it('a lost device closes the transport with a clear error, fails the request in flight and closes the port', async () => {
    const { port, transport, client, closed } = await connect();
    const pending = client.call(os.echo, { d: 'x' }, { timeoutMs: 60_000 });
    port.lose();
    await expect(pending).rejects.toThrow(/Serial port disconnected \(The device has been lost\.\)/);
    expect(await closed).toBeInstanceOf(TransportError);
    await expect(transport.send(new Uint8Array(8))).rejects.toThrow(TransportError);
    await expect.poll(() => port.closeCalls).toBe(1);
  });

  it("the port's disconnect event closes the transport with a clear error", async () => {
    const { port, closed } = await connect();
    port.unplug();
    expect((await closed)?.message).toMatch(/Serial port disconnected \(the device was unplugged\)/);
    await expect.poll(() => port.closeCalls).toBe(1);
  });

  it('close() releases the streams and closes the port; closing is reported once, without error', async () => {
    const { port, transport, closed } = await connect();
    await transport.close();
    expect(await closed).toBeUndefined();
    expect(port.closeCalls).toBe(1);
    expect(port.readable).toBeNull();
    await transport.close();
    expect(port.closeCalls).toBe(1);
    await expect(transport.send(new Uint8Array(8))).rejects.toThrow(/closed/);
  });

  it('close() does not wait for a write the port never completes', async () => {
    const { port, transport } = await connect();
    port.stallWrites = true;
    void transport.send(new Uint8Array(8));
    await expect.poll(() => port.stalledWrites).toBe(1);
    await transport.close();
    expect(transport.isClosed).toBe(true);
    await expect(transport.send(new Uint8Array(8))).rejects.toThrow(/closed/);
  });

  it('a failed write is a lost port (closed with the reason); open failures are TransportErrors', async () => {
    const { port, client, closed } = await connect();
    port.failWrites = true;
    await expect(client.call(os.echo, { d: 'x' })).rejects.toThrow(/Serial port disconnected \(a write failed: write timed out\)/);
    expect(await closed).toBeInstanceOf(TransportError);
    await expect.poll(() => port.closeCalls).toBe(1);

    const busy = new FakeSerialPort();
    busy.failOpen = new Error('Failed to open serial port.');
    await expect(WebSerialTransport.open(busy)).rejects.toThrow(/Cannot open the serial port: Failed to open serial port/);
  });
});

describe('requestSerialPort', () => {
  it('passes the filters to navigator.serial.requestPort', async () => {
    const port = new FakeSerialPort();
    let asked: unknown;
    const serial = {
      requestPort: async (options?: unknown) => {
        asked = options;
        return port;
      },
    };
    expect(await requestSerialPort([{ usbVendorId: 0x2fe3 }], serial)).toBe(port);
    expect(asked).toEqual({ filters: [{ usbVendorId: 0x2fe3 }] });
  });

  it('explains a missing Web Serial and a cancelled chooser', async () => {
    await expect(requestSerialPort()).rejects.toThrow(/This browser has no Web Serial \(navigator\.serial\)/);
    const cancelled = { requestPort: () => Promise.reject(new Error('No port selected by the user.')) };
    await expect(requestSerialPort([], cancelled)).rejects.toThrow(/No device chosen \(Web Serial\): No port selected by the user\./);
  });
});
