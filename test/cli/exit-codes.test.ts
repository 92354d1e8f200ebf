/** Every failure of the `mcumgr` command ends with one clear line and a documented exit status (0, 2, 3, 64), never 1. */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/report-error.js';
import { encodeCbor } from '../../src/protocol/cbor.js';
import { run, tempDir } from './helpers.js';

/** A UDP peer that answers every request with the given CBOR body (same op+1, group, seq and id). */
async function answering(body: Uint8Array): Promise<{ address: string; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const header = Buffer.from(msg.subarray(0, 8));
    header[0] = (header[0]! & 0xf8) | ((header[0]! & 7) + 1);
    header.writeUInt16BE(body.length, 2);
    socket.send(Buffer.concat([header, body]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const { port } = socket.address();
  return { address: `127.0.0.1:${port}`, close: () => socket.close() };
}

const oneLine = (text: string) => expect(text.trim().split('\n')).toHaveLength(1);

describe('exit status of failures', () => {
  it('an echo no SMP packet can carry is a usage error, before anything is sent', async () => {
    const peer = await answering(encodeCbor({ r: 'x' }));
    const r = await run(['--conntype', 'udp', '--connstring', peer.address, 'echo', 'x'.repeat(100_000)]);
    peer.close();
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^Error: the request for group 0 command 0 is 100\d{3} bytes; an SMP packet carries at most 65535\n$/);
  });

  it('an answer of the wrong shape is a transport/protocol error (3), in one line', async () => {
    const peer = await answering(encodeCbor({ r: 5 }));
    const r = await run(['--conntype', 'udp', '--connstring', peer.address, '-t', '5', 'echo', 'hello']);
    peer.close();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unexpected response to os.echo: r:/);
    oneLine(r.stderr);
  });

  it('a connection profile file that is not JSON is a usage error', async () => {
    const home = tempDir();
    writeFileSync(join(home, '.mcumgr.cp.json'), '{ not json');
    const r = await run(['-c', 'board', 'echo', 'x'], { HOME: home });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/\.mcumgr\.cp\.json is not valid JSON/);
    oneLine(r.stderr);
  });
});

describe('the top-level guard for errors nobody raised on purpose', () => {
  const written: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    written.length = 0;
  });
  const capture = () =>
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });

  it('prints one line naming it an internal error and exits 3, not 1', () => {
    capture();
    const status = reportError(new RangeError('offset is out of bounds'));
    expect(status).toBe(3);
    expect(written.join('')).toBe('Error: internal error: RangeError: offset is out of bounds (run with --loglevel debug to see where)\n');
  });

  it('prints the stack too with --loglevel debug', () => {
    capture();
    vi.spyOn(process, 'argv', 'get').mockReturnValue(['node', 'mcumgr', '--loglevel', 'debug', 'echo']);
    reportError(new RangeError('offset is out of bounds'));
    expect(written.join('')).toMatch(/at .*exit-codes\.test\.ts/);
  });
});
