import { describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { encodeCborIndefinite, decodeCbor } from '../../src/protocol/cbor.js';
import { SmpAbortError, SmpDeviceError, SmpShapeError, SmpTimeoutError } from '../../src/protocol/errors.js';
import { decodePacket, encodePacket, responseOp } from '../../src/protocol/header.js';
import { image, os, stat, fs, shell } from '../../src/groups/index.js';
import { goRuns, toVectorJson } from '../helpers/vectors.js';
import { ScriptedTransport } from '../helpers/loopback.js';

function reply(request: Uint8Array, body: unknown, patch: Partial<{ op: number; seq: number; group: number; id: number }> = {}): Uint8Array {
  const { header } = decodePacket(request);
  return encodePacket(
    { op: responseOp(header.op), version: header.version, flags: 0, group: header.group, seq: header.seq, id: header.id, ...patch },
    encodeCborIndefinite(body),
  );
}

describe('SmpClient', () => {
  it('builds the same requests as the Go tool for the same commands', async () => {
    const runs = goRuns();
    const byName = new Map(runs.map((r) => [r.name, r]));
    const calls: [string, () => [unknown, unknown]][] = [
      ['echo', () => [os.echo, { d: 'hello' }]],
      ['image_list_before_upload', () => [image.state, {}]],
      ['stat_smp_svr_stats', () => [stat.read, { name: 'smp_svr_stats' }]],
      ['stat_list', () => [stat.list, {}]],
      ['taskstat', () => [os.taskstat, {}]],
      ['reset', () => [os.reset, {}]],
      ['shell_exec_kernel_version', () => [shell.exec, { argv: ['kernel', 'version'] }]],
    ];
    for (const [name, make] of calls) {
      const run = byName.get(name);
      expect(run, name).toBeDefined();
      const goRequest = run!.requests_sent[0]!;
      const transport = new ScriptedTransport();
      const client = new SmpClient(transport, { version: 0, timeoutMs: 50 });
      const [cmd, req] = make();
      await client.call(cmd as never, req as never).catch(() => undefined);
      const ours = decodePacket(transport.sent[0]!);
      expect(ours.header.op, name).toBe(goRequest.header.op);
      expect(ours.header.group, name).toBe(goRequest.header.group);
      expect(ours.header.id, name).toBe(goRequest.header.id);
      expect(ours.header.version, name).toBe(goRequest.header.version_bits);
      expect(toVectorJson(decodeCbor(ours.payload)), name).toEqual(goRequest.body_json);
    }
  });

  it('matches responses by sequence number with several requests in flight', async () => {
    const transport = new ScriptedTransport();
    const client = new SmpClient(transport, { firstSeq: 250 });
    const texts = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const promises = texts.map((d) => client.call(os.echo, { d }));
    await Promise.resolve();
    // Answer in reverse order; sequence numbers wrap past 255.
    for (const packet of [...transport.sent].reverse()) {
      const body = decodeCbor(decodePacket(packet).payload) as { d: string };
      transport.deliver(reply(packet, { r: body.d }));
    }
    expect((await Promise.all(promises)).map((r) => r.r)).toEqual(texts);
    expect(transport.sent.map((p) => decodePacket(p).header.seq)).toContain(0);
  });

  it('drops responses with an unknown sequence number, a wrong group or a duplicate', async () => {
    const transport = new ScriptedTransport((packet, t) => {
      const seq = decodePacket(packet).header.seq;
      t.deliver(reply(packet, { r: 'wrong seq' }, { seq: (seq + 1) & 0xff }));
      t.deliver(reply(packet, { r: 'wrong group' }, { group: 9 }));
      t.deliver(reply(packet, { r: 'right' }));
      t.deliver(reply(packet, { r: 'duplicate' }));
    });
    const client = new SmpClient(transport);
    expect(await client.call(os.echo, { d: 'x' })).toEqual({ r: 'right' });
    expect(client.droppedResponses).toBe(3);
  });

  it('drops a response whose op or command id does not answer the request', async () => {
    // echo is a write (op 2) of group 0, command 0: only op 3, group 0, id 0 answers it.
    const transport = new ScriptedTransport((packet, t) => {
      t.deliver(reply(packet, { r: 'the request itself, echoed by the link' }, { op: 2 }));
      t.deliver(reply(packet, { r: 'a read response' }, { op: 1 }));
      t.deliver(reply(packet, { r: 'another command' }, { id: 1 }));
      t.deliver(reply(packet, { r: 'another group' }, { group: 1 }));
      t.deliver(reply(packet, { r: 'right' }, { op: 3, group: 0, id: 0 }));
    });
    const client = new SmpClient(transport);
    expect(await client.call(os.echo, { d: 'x' })).toEqual({ r: 'right' });
    expect(client.droppedResponses).toBe(4);

    // A read (image state: op 0, group 1, command 0) is answered by op 1.
    const reads = new ScriptedTransport((packet, t) => {
      t.deliver(reply(packet, { images: [] }, { op: 3 }));
      t.deliver(reply(packet, { images: [] }, { op: 1, group: 1, id: 0 }));
    });
    const reader = new SmpClient(reads);
    expect(await reader.call(image.state, {})).toMatchObject({ images: [] });
    expect(reader.droppedResponses).toBe(1);
  });

  it('turns rc and err answers into typed device errors', async () => {
    const legacy = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { rc: 8 }))));
    const err = await legacy.call(os.taskstat, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmpDeviceError);
    expect((err as SmpDeviceError).code).toBe('MGMT_ERR_ENOTSUP');
    expect((err as SmpDeviceError).message).toContain('CONFIG_MCUMGR_GRP_OS_TASKSTAT');

    const v2 = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { err: { group: 1, rc: 8 } }))));
    const err2 = (await v2.call(image.setState, { hash: new Uint8Array(32) }).catch((e: unknown) => e)) as SmpDeviceError;
    expect(err2.code).toBe('IMG_MGMT_ERR_HASH_NOT_FOUND');

    // Zephyr's stat group reports its errors under group 63.
    const st = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { err: { group: 63, rc: 3 } }))));
    const err3 = (await st.call(stat.read, { name: 'nope' }).catch((e: unknown) => e)) as SmpDeviceError;
    expect(err3.code).toBe('STAT_MGMT_ERR_INVALID_STAT_NAME');

    const fsErr = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { err: { group: 8, rc: 11 }, len: 0 }))));
    expect(((await fsErr.call(fs.upload, { name: '/lfs/a', off: 5, data: new Uint8Array(1) }).catch((e: unknown) => e)) as SmpDeviceError).code).toBe(
      'FS_MGMT_ERR_FILE_OFFSET_NOT_VALID',
    );
  });

  it('rejects a response of the wrong shape with a shape error', async () => {
    const client = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { r: 5 }))));
    await expect(client.call(os.echo, { d: 'x' })).rejects.toBeInstanceOf(SmpShapeError);
  });

  it('times out, retrying the identical packet', async () => {
    const transport = new ScriptedTransport();
    const client = new SmpClient(transport, { timeoutMs: 20, tries: 3 });
    const err = await client.call(os.echo, { d: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmpTimeoutError);
    expect((err as Error).message).toMatch(/3 tries/);
    expect(transport.sent).toHaveLength(3);
    expect(new Set(transport.sent.map((p) => Buffer.from(p).toString('hex'))).size).toBe(1);
  });

  it('ignores a late response after a timeout', async () => {
    const transport = new ScriptedTransport();
    const client = new SmpClient(transport, { timeoutMs: 10 });
    await expect(client.call(os.echo, { d: 'x' })).rejects.toBeInstanceOf(SmpTimeoutError);
    transport.deliver(reply(transport.sent[0]!, { r: 'late' }));
    expect(client.droppedResponses).toBe(1);
  });

  it('aborts through an AbortSignal', async () => {
    const client = new SmpClient(new ScriptedTransport());
    const controller = new AbortController();
    const p = client.call(os.echo, { d: 'x' }, { signal: controller.signal });
    controller.abort();
    await expect(p).rejects.toBeInstanceOf(SmpAbortError);
  });

  it('rejects pending requests when the link closes', async () => {
    const transport = new ScriptedTransport();
    const client = new SmpClient(transport);
    const p = client.call(os.echo, { d: 'x' });
    await transport.close();
    await expect(p).rejects.toThrow(/closed/);
  });

  it('traces every packet sent and received', async () => {
    const trace: string[] = [];
    const client = new SmpClient(new ScriptedTransport((p, t) => t.deliver(reply(p, { r: 'x' }))), {
      onTrace: (dir) => trace.push(dir),
    });
    await client.call(os.echo, { d: 'x' });
    expect(trace).toEqual(['tx', 'rx']);
  });
});
