/** Helpers for the mcumgr CLI tests: run the built CLI, replay recorded device bytes over UDP, start the simulator. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/mcumgr.js');
export const FIXTURES = join(ROOT, 'test/fixtures/go-mcumgr-output');
export const SIM = join(ROOT, 'dist/device/sim.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** One slot of `mcumgr --json image list`. */
export interface ListedSlot {
  image?: number;
  slot: number;
  version: string;
  hash: string;
  active?: boolean;
  confirmed?: boolean;
  pending?: boolean;
}

/** Whether the optional BLE package can be loaded from this checkout. */
export function nobleInstalled(): boolean {
  try {
    createRequire(join(ROOT, 'package.json')).resolve('@stoprocent/noble');
    return true;
  } catch {
    return false;
  }
}

export function tempDir(prefix = 'mcumgr-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Transcript {
  name: string;
  argv: string[];
  stdout: string;
  stderr: string;
  exit_status: number | string;
  requests_sent: { packet_hex: string; header: { op: number; group: number; id: number }; body_json: Record<string, unknown> }[];
  responses_received: { packet_hex: string; header: { op: number; group: number; id: number }; body_json: Record<string, unknown> }[];
}

export function transcript(name: string): Transcript {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Transcript;
}

export function allTranscripts(): Transcript[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .map((f) => transcript(f.replace(/\.json$/, '')));
}

/** The mcumgr argv of a transcript without the program name and the connection flags. */
export function commandArgs(t: Transcript): string[] {
  const a = t.argv.slice(1);
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--conntype' || a[i] === '--connstring') {
      i++;
      continue;
    }
    out.push(a[i]!);
  }
  return out;
}

/**
 * A UDP SMP responder that answers with the bytes a real Zephyr device sent in a recorded session:
 * each request is matched (by op/group/id, in order) to the next unused recorded response, whose
 * sequence number and version bits are rewritten to the request's. Unrecorded requests get `{rc: 8}`.
 */
export class ReplayDevice {
  readonly requests: Buffer[] = [];
  private constructor(
    private readonly socket: dgram.Socket,
    private responses: Buffer[],
  ) {
    socket.on('message', (msg, rinfo) => {
      this.requests.push(msg);
      if (msg.length < 8) return;
      const op = msg[0]! & 7;
      const group = msg.readUInt16BE(4);
      const id = msg[7]!;
      const idx = this.responses.findIndex((r) => (r[0]! & 7) === op + 1 && r.readUInt16BE(4) === group && r[7] === id);
      let rsp: Buffer;
      if (idx >= 0) {
        rsp = Buffer.from(this.responses[idx]!);
        this.responses.splice(idx, 1);
      } else {
        rsp = Buffer.from([op + 1, 0, 0, 5, 0, 0, 0, id, 0xa1, 0x62, 0x72, 0x63, 0x08]); // {"rc": 8}
        rsp.writeUInt16BE(group, 4);
      }
      rsp[0] = (rsp[0]! & 0xe7) | (msg[0]! & 0x18); // version bits of the request
      rsp[6] = msg[6]!; // sequence number
      socket.send(rsp, rinfo.port, rinfo.address);
    });
  }

  static async start(responsesHex: string[]): Promise<ReplayDevice> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new ReplayDevice(
      socket,
      responsesHex.map((h) => Buffer.from(h, 'hex')),
    );
  }

  static forTranscript(t: Transcript): Promise<ReplayDevice> {
    return ReplayDevice.start(t.responses_received.map((r) => r.packet_hex));
  }

  get address(): string {
    const a = this.socket.address();
    return `${a.address}:${a.port}`;
  }

  /** Global flags that reach this device. */
  get conn(): string[] {
    return ['--conntype', 'udp', '--connstring', this.address];
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** The virtual device (`mcumgr-sim`), when it has been built. */
export class Simulator {
  private constructor(
    readonly proc: ChildProcess,
    readonly address: string,
    readonly stateDir: string,
    readonly ptyPath?: string,
    /** With `usb`: the port list the device keeps, as MCUMGR_PORTS_FILE reads it. */
    readonly portsFile?: string,
  ) {}

  /**
   * Starts the simulator on UDP, and with `serial` also on a pseudo-terminal; `config` is written to a `--config`
   * file; `link` is passed as `--link`.
   */
  static start(options: { serial?: boolean; config?: Record<string, unknown>; link?: string; usb?: string } = {}): Promise<Simulator> {
    const stateDir = tempDir('mcumgr-sim-state-');
    const args = [SIM, '--udp', '127.0.0.1:0', ...(options.serial ? ['--serial', 'pty'] : []), '--state', stateDir];
    const portsFile = options.usb ? join(stateDir, 'ports.json') : undefined;
    if (options.usb) args.push('--usb', options.usb, '--ports-file', portsFile!);
    if (options.link) args.push('--link', options.link);
    if (options.config) {
      const file = join(tempDir('mcumgr-sim-config-'), 'config.json');
      writeFileSync(file, JSON.stringify(options.config));
      args.push('--config', file);
    }
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolveStart, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`simulator did not start: ${out}`)), 15_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /udp: (\S+)/.exec(out);
        const pty = /pty: (\S+)/.exec(out);
        if (m && (pty || !(options.serial || options.usb))) {
          clearTimeout(timer);
          resolveStart(new Simulator(proc, m[1]!, stateDir, pty?.[1], portsFile));
        }
      });
      proc.stderr!.setEncoding('utf8');
      proc.stderr!.resume();
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`simulator exited with ${code}: ${out}`));
      });
    });
  }

  get conn(): string[] {
    return ['--conntype', 'udp', '--connstring', this.address];
  }

  /** Connection options for the pseudo-terminal, as the Zephyr docs write a serial connection. */
  get serialConn(): string[] {
    return ['--conntype', 'serial', '--connstring', `dev=${this.ptyPath},baud=115200,mtu=512`];
  }

  /** Resolves with the simulator's next `reset: ...` report (the reboot after a reset command has happened). */
  nextReset(): Promise<string> {
    return new Promise((resolveReset) => {
      const onData = (text: string): void => {
        const m = /^reset: .*$/m.exec(text);
        if (!m) return;
        this.proc.stderr!.off('data', onData);
        resolveReset(m[0]);
      };
      this.proc.stderr!.on('data', onData);
    });
  }

  stop(): Promise<void> {
    return new Promise((r) => {
      if (this.proc.exitCode !== null) return r();
      this.proc.once('exit', () => r());
      this.proc.kill('SIGTERM');
    });
  }
}
