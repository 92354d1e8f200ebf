import { describe, expect, it } from 'vitest';
import { createMemoryPair } from '../../src/index.js';
import { TransportError } from '../../src/transport/transport.js';

describe('createMemoryPair', () => {
  it('delivers asynchronously both ways, copies data', async () => {
    const [a, b] = createMemoryPair(64);
    const gotB: Uint8Array[] = [];
    const gotA: Uint8Array[] = [];
    b.onPacket((p) => gotB.push(p));
    a.onPacket((p) => gotA.push(p));
    const pkt = new Uint8Array([1, 2, 3]);
    const sent = a.send(pkt);
    pkt[0] = 9;
    expect(gotB).toEqual([]); // not synchronous
    await sent;
    await new Promise((r) => setTimeout(r, 0));
    expect(gotB).toEqual([new Uint8Array([1, 2, 3])]);
    await b.send(new Uint8Array([4]));
    await new Promise((r) => setTimeout(r, 0));
    expect(gotA).toEqual([new Uint8Array([4])]);
    expect(a.mtu).toBe(64);
  });
  it('rejects oversize packets', async () => {
    const [a] = createMemoryPair(4);
    await expect(a.send(new Uint8Array(5))).rejects.toBeInstanceOf(TransportError);
  });
  it('close propagates to the other side', async () => {
    const [a, b] = createMemoryPair();
    const closed: string[] = [];
    a.onClose(() => closed.push('a'));
    b.onClose(() => closed.push('b'));
    await a.close();
    await new Promise((r) => setTimeout(r, 0));
    expect(closed.sort()).toEqual(['a', 'b']);
    await expect(b.send(new Uint8Array(1))).rejects.toBeInstanceOf(TransportError);
    await b.close(); // idempotent
    expect(closed.length).toBe(2);
  });
});
