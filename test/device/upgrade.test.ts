import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { buildImage } from '../../src/device/firmware.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { fs, image } from '../../src/groups/index.js';
import { UdpTransport } from '../../src/node/udp.js';
import type { SmpTransport } from '../../src/transport/transport.js';
import { makeDevice, memoryLink, resetAndWait, versions, type MemoryLink } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function upload(client: SmpClient, img: Uint8Array, chunk = 400): Promise<{ off: number; match?: boolean }> {
  const sha = new Uint8Array(createHash('sha256').update(img).digest());
  let rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, chunk) });
  while (rsp.off < img.length) {
    rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + chunk) });
  }
  return rsp;
}

type Link = MemoryLink;

async function udpLink(): Promise<Link> {
  const dev = makeDevice();
  const udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
  const t: SmpTransport = await UdpTransport.connect(`127.0.0.1:${udp.port}`);
  return {
    client: new SmpClient(t, { timeoutMs: 3000 }),
    dev,
    close: async () => {
      await t.close();
      await udp.close();
      await dev.close();
    },
  };
}

let open: Link | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

for (const [name, connect] of [
  ['memory pair', memoryLink],
  ['UDP', udpLink],
] as const) {
  describe(`upgrade cycle over ${name}`, () => {
    it('test → reset → runs 1.1.0 unconfirmed → reset → reverts to 1.0.0', async () => {
      const { client, dev } = (open = await connect());
      expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);
      const img = buildImage({ version: '1.1.0' });
      const done = await upload(client, img);
      expect(done).toEqual({ off: img.length, match: true });
      const list = await client.call(image.state, {});
      expect(list.images.map((i) => i.version)).toEqual(['1.0.0', '1.1.0']);
      const hash = list.images[1]!.hash!;
      await client.call(image.setState, { hash });
      expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:1.1.0:pending']);
      await resetAndWait(client, dev);
      expect(await versions(client)).toEqual(['0:1.1.0:active', '1:1.0.0:confirmed']);
      await resetAndWait(client, dev);
      expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:1.1.0:']);
    });

    it('confirm after the test boot keeps the new image; broken hash refused', async () => {
      const { client, dev } = (open = await connect());
      const img = buildImage({ version: '1.1.0' });
      await upload(client, img);
      const hash = (await client.call(image.state, {})).images[1]!.hash!;
      await client.call(image.setState, { hash });
      await resetAndWait(client, dev);
      await client.call(image.setState, { confirm: true });
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed', '1:1.0.0:']);
      await resetAndWait(client, dev);
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed', '1:1.0.0:']);

      // broken image: hash TLV does not match → MCUboot refuses it at reset
      await client.call(image.erase, {});
      const bad = buildImage({ version: '2.0.0', badHash: true });
      await upload(client, bad);
      const badHash = (await client.call(image.state, {})).images[1]!.hash!;
      await client.call(image.setState, { hash: badHash, confirm: true });
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed', '1:2.0.0:pending,permanent']);
      await resetAndWait(client, dev);
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed']);
    });

    it('fs upload / download / hash', async () => {
      const { client } = (open = await connect());
      const data = new Uint8Array(5000).map((_, i) => (i * 7 + 3) & 0xff);
      let off = 0;
      while (off < data.length) {
        const r = await client.call(fs.upload, { name: '/lfs/data.bin', off, data: data.subarray(off, off + 700), ...(off === 0 ? { len: data.length } : {}) });
        off = r.off;
      }
      expect(await client.call(fs.status, { name: '/lfs/data.bin' })).toEqual({ len: 5000 });
      const chunks: Uint8Array[] = [];
      off = 0;
      for (;;) {
        const r = await client.call(fs.download, { name: '/lfs/data.bin', off });
        if (r.data.length === 0) break;
        chunks.push(r.data);
        off += r.data.length;
      }
      expect(Buffer.concat(chunks).equals(Buffer.from(data))).toBe(true);
      const sha = await client.call(fs.hash, { name: '/lfs/data.bin', type: 'sha256' });
      expect(Buffer.from(sha.output as Uint8Array).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      const crc = await client.call(fs.hash, { name: '/lfs/data.bin' });
      expect(crc.type).toBe('crc32');
      await expect(client.call(fs.status, { name: '/lfs/../etc/passwd' })).rejects.toThrow();
      await expect(client.call(fs.status, { name: '/other/x' })).rejects.toThrow();
      expect((await client.call(fs.supportedHashes, {})).types).toEqual({ crc32: { format: 0, size: 4 }, sha256: { format: 1, size: 32 } });
      await sleep(1);
    });
  });
}
