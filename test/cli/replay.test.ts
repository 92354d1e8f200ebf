/**
 * The built CLI against a UDP responder that answers with the bytes a real Zephyr 3.4 device sent to the
 * Go mcumgr tool (test/fixtures/go-mcumgr-output): our human output must equal the Go tool's stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandArgs, ReplayDevice, run, tempDir, transcript } from './helpers.js';

let device: ReplayDevice | undefined;
afterEach(async () => {
  await device?.close();
  device = undefined;
});

const SAME_AS_GO = [
  'echo',
  'echo_empty',
  'echo_200',
  'image_list_before_upload',
  'image_list_after_upload',
  'image_list_after_test',
  'image_list_after_reset',
  'image_test',
  'image_erase',
  'reset',
  'stat_list',
  'stat_smp_svr_stats',
  'stat_flash_sim_thresholds',
  'taskstat',
  'shell_exec_kernel_version',
];

describe('output identical to the Go mcumgr tool (recorded Zephyr responses)', () => {
  for (const name of SAME_AS_GO) {
    for (const v1 of [false, true]) {
      it(`${name}${v1 ? ' (--smp-v1)' : ''}`, async () => {
        const t = transcript(name);
        device = await ReplayDevice.forTranscript(t);
        const r = await run([...device.conn, ...(v1 ? ['--smp-v1'] : []), ...commandArgs(t)]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(t.stdout);
        expect(r.code).toBe(0);
        // Our request carries the same payload as Go's; with --smp-v1 the same header too (but the sequence number).
        const go = Buffer.from(t.requests_sent.at(-1)!.packet_hex, 'hex');
        // `reset` then probes the rebooted device with echoes: compare the request of the same command.
        const ours = [...device.requests].reverse().find((r) => r.readUInt16BE(4) === go.readUInt16BE(4) && r[7] === go[7] && (r[0]! & 7) === (go[0]! & 7))!;
        expect(ours.subarray(8).toString('hex')).toBe(go.subarray(8).toString('hex'));
        expect((ours[0]! >> 3) & 3).toBe(v1 ? 0 : 1);
        if (v1)
          expect(Buffer.concat([ours.subarray(0, 6), ours.subarray(7)]).toString('hex')).toBe(
            Buffer.concat([go.subarray(0, 6), go.subarray(7)]).toString('hex'),
          );
      });
    }
  }

  it('fs download prints the offsets then Done, and writes the file', async () => {
    const t = transcript('fs_download');
    device = await ReplayDevice.forTranscript(t);
    const dir = tempDir();
    const local = join(dir, 'copy.txt');
    const r = await run([...device.conn, 'fs', 'download', '/lfs1/go.txt', local]);
    expect(r.stdout).toBe(t.stdout);
    expect(r.code).toBe(0);
    const expected = Buffer.from(String(t.responses_received[0]!.body_json.data), 'hex');
    expect(readFileSync(local).equals(expected)).toBe(true);
  });

  it('fs upload prints the device offsets then Done, continuing from the returned off', async () => {
    const t = transcript('fs_upload');
    device = await ReplayDevice.forTranscript(t);
    const content = Buffer.from(String(transcript('fs_download').responses_received[0]!.body_json.data), 'hex');
    expect(content.length).toBe(580);
    const dir = tempDir();
    const local = join(dir, 'hello.txt');
    writeFileSync(local, content);
    const r = await run([...device.conn, 'fs', 'upload', local, '/lfs1/go.txt']);
    expect(r.stdout).toBe(t.stdout);
    expect(r.code).toBe(0);
    // The second chunk starts where the device said (324), not where our first chunk ended.
    const uploads = device.requests.filter((p) => p.readUInt16BE(4) === 8);
    expect(uploads.length).toBe(2);
  });
});

describe('device errors: Go line on stdout, explanation on stderr, exit 2', () => {
  const cases: [string, RegExp][] = [
    ['mpstat_unsupported', /MGMT_ERR_ENOTSUP \(8\).*Zephyr has no memory-pool statistics handler/],
    ['stat_unknown_group', /\(1\)/],
    ['image_erase_while_pending', /\(6\)/],
    ['image_confirm_hash_while_pending', /\(6\)/],
    ['image_test_unknown_hash', /\(1\)/],
    ['stat_flash_sim_stats', /\(7\)/],
  ];
  for (const [name, explanation] of cases) {
    it(name, async () => {
      const t = transcript(name);
      device = await ReplayDevice.forTranscript(t);
      const r = await run([...device.conn, '--smp-v1', ...commandArgs(t)]);
      expect(r.stdout).toBe(t.stdout);
      expect(r.stderr).toMatch(explanation);
      expect(r.code).toBe(2);
    });
  }

  it('--json: one JSON error document on stderr, nothing on stdout', async () => {
    const t = transcript('mpstat_unsupported');
    device = await ReplayDevice.forTranscript(t);
    const r = await run([...device.conn, '--json', 'mpstat']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const e = JSON.parse(r.stderr) as { error: { kind: string; rc: number; code: string } };
    expect(e.error).toMatchObject({ kind: 'device', rc: 8, code: 'MGMT_ERR_ENOTSUP' });
  });
});

describe('--json output', () => {
  it('image list: one document, hashes as hex', async () => {
    const t = transcript('image_list_after_upload');
    device = await ReplayDevice.forTranscript(t);
    const r = await run([...device.conn, '--json', 'image', 'list']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { images: { hash: string; version: string }[] };
    expect(doc.images.map((i) => i.hash)).toEqual((t.responses_received[0]!.body_json.images as { hash: string }[]).map((i) => i.hash));
    expect(doc.images[1]!.version).toBe('1.3.0.7');
  });

  it('taskstat', async () => {
    device = await ReplayDevice.forTranscript(transcript('taskstat'));
    const r = await run([...device.conn, '--json', 'taskstat']);
    const doc = JSON.parse(r.stdout) as { tasks: Record<string, { prio: number }> };
    expect(doc.tasks.sysworkq!.prio).toBe(-1);
  });
});

describe('debug log', () => {
  it('-l debug prints every packet in hex on stderr', async () => {
    const t = transcript('echo_debug_log');
    device = await ReplayDevice.forTranscript(t);
    const r = await run([...device.conn, '--smp-v1', '-l', 'debug', 'echo', 'hi']);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/Tx SMP packet \(14 bytes\): 020000060000..00a16164626869/);
    expect(r.stderr).toMatch(/Rx SMP packet \(15 bytes\): 030000070000..00bf6172626869ff/);
  });
});
