/**
 * MCUboot's boot_serial reads its input in the loop that handles the requests (boot_serial.c,
 * boot_serial_read_console): a request that arrives while one is handled, here the first upload chunk's whole-slot
 * erase, is lost. The device answers one of two requests sent back to back; the CLI's recovery upload (one chunk at
 * a time) is not affected (test/cli/recovery.test.ts uploads through the same model).
 */
import { describe, expect, it } from 'vitest';
import { VirtualDevice } from '../../src/device/device.js';
import { serveSerialLine, type SerialLine } from '../../src/device/recovery/serial-port.js';
import { encodeCbor } from '../../src/protocol/cbor.js';
import { decodePacket, encodePacket } from '../../src/protocol/header.js';
import { encodeSerialFrames, SerialFrameDecoder } from '../../src/transport/serial-framing.js';
import { tempDir } from './helpers.js';

function recoveryDevice(): VirtualDevice {
  const device = VirtualDevice.createSync({ stateDir: tempDir('mcuboot-busy-'), config: { slotSize: 0x20000, mcubootMode: 3 } });
  device.flash.erase(0);
  device.enterRecovery();
  return device;
}

/** A line whose every write the device makes is kept. */
function line(): SerialLine & { writes: Uint8Array[]; feed(bytes: Uint8Array): void } {
  let onData: (bytes: Uint8Array) => void = () => undefined;
  const writes: Uint8Array[] = [];
  return {
    writes,
    write: async (bytes) => void writes.push(bytes),
    onData: (cb) => (onData = cb),
    onClose: () => undefined,
    close: () => undefined,
    feed: (bytes) => onData(bytes),
  };
}

const frame = (seq: number, group: number, id: number, body: Record<string, unknown>) =>
  encodeSerialFrames(encodePacket({ op: 2, version: 0, flags: 0, group, seq, id }, encodeCbor(body)));
const firstChunk = frame(1, 1, 1, { image: 0, off: 0, len: 4096, data: new Uint8Array(256).fill(0x5a) });
const echo = (seq: number) => frame(seq, 0, 0, { d: 'hello' });

function answeredSeqs(writes: Uint8Array[]): number[] {
  const decoder = new SerialFrameDecoder();
  return writes.flatMap((w) => decoder.push(w)).map((p) => decodePacket(p).header.seq);
}

describe('MCUboot serial recovery handles one request at a time', () => {
  it('a request sent while the first upload chunk erases the slot is lost; one sent after its answer is answered', async () => {
    const device = recoveryDevice();
    const l = line();
    const port = serveSerialLine(device, l, { raw: false });
    l.feed(firstChunk);
    l.feed(echo(2));
    await port.handled();
    expect(answeredSeqs(l.writes)).toEqual([1]);
    l.feed(echo(3));
    await port.handled();
    expect(answeredSeqs(l.writes)).toEqual([1, 3]);
    await device.close();
  });

  it('requests that one read brings in together are all answered, in order', async () => {
    const device = recoveryDevice();
    const l = line();
    const port = serveSerialLine(device, l, { raw: false });
    l.feed(new Uint8Array([...echo(4), ...echo(5)]));
    await port.handled();
    expect(answeredSeqs(l.writes)).toEqual([4, 5]);
    await device.close();
  });
});
