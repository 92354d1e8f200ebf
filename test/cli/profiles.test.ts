/** Connection profiles (~/.mcumgr.cp.json, Go format), usage errors and connection errors. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { nobleInstalled, ReplayDevice, run, tempDir, transcript } from './helpers.js';

let device: ReplayDevice | undefined;
afterEach(async () => {
  await device?.close();
  device = undefined;
});

describe('conn add / show / delete', () => {
  it('writes the Go format: sorted array, 4-space indent, Go messages', async () => {
    const home = tempDir();
    const env = { HOME: home };
    let r = await run(['conn', 'add', 'zz', 'type=udp', 'connstring=127.0.0.1:1337'], env);
    expect(r).toMatchObject({ code: 0, stdout: 'Connection profile zz successfully added\n' });
    r = await run(['conn', 'add', 'acm0', 'type=serial', 'connstring=dev=/dev/ttyACM0,baud=115200,mtu=512'], env);
    expect(r.code).toBe(0);
    const file = readFileSync(join(home, '.mcumgr.cp.json'), 'utf8');
    expect(file).toBe(
      '[\n' +
        '    {\n' +
        '        "MyName": "acm0",\n' +
        '        "MyType": "serial",\n' +
        '        "MyConnString": "dev=/dev/ttyACM0,baud=115200,mtu=512"\n' +
        '    },\n' +
        '    {\n' +
        '        "MyName": "zz",\n' +
        '        "MyType": "udp",\n' +
        '        "MyConnString": "127.0.0.1:1337"\n' +
        '    }\n' +
        ']',
    );
    r = await run(['conn', 'show'], env);
    expect(r.stdout).toBe(
      "Connection profiles: \n  acm0: type=serial, connstring='dev=/dev/ttyACM0,baud=115200,mtu=512'\n  zz: type=udp, connstring='127.0.0.1:1337'\n",
    );
    r = await run(['conn', 'show', 'nope'], env);
    expect(r.stdout).toBe('No connection profiles found matching nope\n');
    r = await run(['conn', 'delete', 'zz'], env);
    expect(r.stdout).toBe('Connection profile zz successfully deleted.\n');
    r = await run(['conn', 'delete', 'acm0'], env);
    r = await run(['conn', 'show'], env);
    expect(r.stdout).toBe('No connection profiles found!\n');
  });

  it('conn add errors are usage errors (64) with the Go messages', async () => {
    const env = { HOME: tempDir() };
    let r = await run(['conn', 'add', 'x', 'connstring=a'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Must specify a connection type');
    r = await run(['conn', 'add', 'x', 'type=udp', 'colour=red'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Unknown variable colour');
    r = await run(['conn', 'add', 'x', 'type=seriall', 'connstring=/dev/ttyACM0'], env);
    expect(r).toMatchObject({ code: 64, stdout: '' });
    expect(r.stderr).toContain('Unknown connection type "seriall" (use serial, ble');
    r = await run(['conn', 'show'], env);
    expect(r.stdout).toBe('No connection profiles found!\n');
  });

  it('-c NAME uses a profile written by the Go tool; --connstring overrides it', async () => {
    device = await ReplayDevice.forTranscript(transcript('echo'));
    const home = tempDir();
    writeFileSync(join(home, '.mcumgr.cp.json'), JSON.stringify([{ MyName: 'sim', MyType: 'udp', MyConnString: device.address }], null, 4));
    let r = await run(['-c', 'sim', 'echo', 'hello'], { HOME: home });
    expect(r).toMatchObject({ code: 0, stdout: 'hello\n' });
    writeFileSync(join(home, '.mcumgr.cp.json'), JSON.stringify([{ MyName: 'sim', MyType: 'udp', MyConnString: '127.0.0.1:9' }], null, 4));
    await device.close();
    device = await ReplayDevice.forTranscript(transcript('echo'));
    r = await run(['-c', 'sim', '--connstring', device.address, 'echo', 'hello'], { HOME: home });
    expect(r).toMatchObject({ code: 0, stdout: 'hello\n' });
    r = await run(['-c', 'nosuch', 'echo', 'hello'], { HOME: home });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/nosuch/);
  });
});

describe('usage and connection errors', () => {
  it('no arguments lists the commands; -h too', async () => {
    for (const args of [[], ['-h']]) {
      const r = await run(args);
      expect(r.code).toBe(0);
      for (const c of ['conn', 'echo', 'image', 'fs', 'shell', 'stat', 'settings', 'taskstat', 'enum']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });

  it('unknown command, bad option values and bad hashes exit 64', async () => {
    expect((await run(['frobnicate'])).code).toBe(64);
    expect((await run(['--conntype', 'carrier-pigeon', 'echo', 'x'])).code).toBe(64);
    const r = await run(['--conntype', 'udp', '--connstring', '127.0.0.1:9', 'image', 'test', 'xyz']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/invalid image hash "xyz"/);
  });

  it('no connection type: Go message, exit 64', async () => {
    const r = await run(['echo', 'hi'], { HOME: tempDir() });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^Error: No connection type specified/);
  });

  it('missing serial device: clear message, exit 3', async () => {
    const r = await run(['--conntype', 'serial', '--connstring', 'dev=/dev/nonexistent-tty,baud=115200,mtu=512', 'echo', 'hello']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\/dev\/nonexistent-tty not found/);
    expect(r.stdout).toBe('');
  });

  it('ble without @stoprocent/noble (or without an adapter): clear message, exit 3; bad BLE connstrings exit 64', async () => {
    const r = await run(['--conntype', 'ble', '--connstring', 'peer_name=x', '-t', '2', 'echo', 'hello']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      nobleInstalled() ? /^Error: BLE: / : /^Error: BLE needs the optional package @stoprocent\/noble: run npm install @stoprocent\/noble\n$/,
    );
    const j = await run(['--conntype', 'ble', '--name', 'x', '-t', '2', '--json', 'echo', 'hello']);
    expect(j.code).toBe(3);
    expect(j.stdout).toBe('');
    expect((JSON.parse(j.stderr) as { error: { kind: string } }).error.kind).toBe('transport');
    const cases = [
      ['ctlr_name=hci0', /lacks a peer: use --connstring peer_name=NAME or peer_id=ADDRESS/],
      ['peer_name=x,colour=red', /Unrecognized key in connstring: colour \(ble keys: peer_name, peer_id, ctlr_name, own_addr_type, conn_timeout\)/],
      ['peer_id=aa:bb:cc:dd:ee:ff,ctlr_name=usb0', /Invalid ctlr_name "usb0"/],
      ['peer_name=x,own_addr_type=weird', /Invalid own_addr_type "weird"/],
      ['peer_name=x,conn_timeout=soon', /Invalid conn_timeout "soon"/],
    ] as const;
    const results = await Promise.all(cases.map(([connstring]) => run(['--conntype', 'ble', '--connstring', connstring, 'echo', 'hello'])));
    results.forEach((bad, i) => {
      expect(bad, cases[i]![0]).toMatchObject({ code: 64, stdout: '' });
      expect(bad.stderr).toMatch(cases[i]![1]);
    });
  });

  it('timeout: exit 3, says what it waited for and suggests -t; -r resends the same packet', async () => {
    const sock = dgram.createSocket('udp4');
    const seen: Buffer[] = [];
    sock.on('message', (m) => seen.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const addr = `127.0.0.1:${sock.address().port}`;
    const t0 = Date.now();
    const r = await run(['--conntype', 'udp', '--connstring', addr, '-t', '0.3', '-r', '3', 'echo', 'hello']);
    sock.close();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^Error: NMP timeout/);
    expect(r.stderr).toMatch(/echo response/);
    expect(r.stderr).toMatch(/-t/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    // Three tries of the SMP v2 request, all the same packet; then, as the device never answered v2, one in v1.
    expect(seen.length).toBe(4);
    expect(new Set(seen.slice(0, 3).map((b) => b.toString('hex'))).size).toBe(1);
    expect(seen.map((b) => (b[0]! >> 3) & 3)).toEqual([1, 1, 1, 0]);
    expect(r.stderr).toMatch(/nor to the same request in SMP v1/);
  });

  it('a non-MCUboot file is refused before connecting', async () => {
    const dir = tempDir();
    const f = join(dir, 'zephyr.elf');
    writeFileSync(f, Buffer.from([0x7f, 0x45, 0x4c, 0x46, ...new Array(100).fill(0)]));
    const r = await run(['--conntype', 'udp', '--connstring', '127.0.0.1:9', 'image', 'upload', f]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/ELF file.*0x96f3b83d.*zephyr\.signed\.bin/);
    const r2 = await run(['--conntype', 'udp', '--connstring', '127.0.0.1:9', 'image', 'upload', join(dir, 'missing.bin')]);
    expect(r2.code).toBe(64);
    expect(r2.stderr).toMatch(/no such file/);
  });
});
