/**
 * The package as users get it: `npm pack` of the built tree (npm test builds first), installed from the tarball into
 * fresh projects under the system temp directory, where nothing of this checkout can be resolved. One install with
 * the optional native packages (serialport, node-pty, lzma-native: optional peer dependencies), one as a web project gets it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/helpers.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const npm = (args: string[], cwd: string) => exec('npm', args, cwd);
const npx = (args: string[], cwd: string) => exec('npx', ['--no-install', ...args], cwd);

/** The code block of the README that follows the `<!-- name: ... -->` marker. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- ${name}:`);
  if (at < 0) throw new Error(`README has no example marked ${name}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`README example ${name} has no ts code block`);
  return block[1]!;
}

async function installTarball(tarball: string, extraArgs: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-ts-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // --ignore-scripts: node-pty would otherwise compile with node-gyp, minutes on a busy machine; nothing here opens a pty.
  const r = await npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...extraArgs], dir);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

let work: string;
let app: string; // installed with serialport, node-pty and lzma-native beside it
let lean: string; // installed alone, as a web project would
let sim: ChildProcess;
let simAddress: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcumgr-ts-pack-'));
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const tarball = join(work, filename);
  // Sequential: two npm installs at once would compete for the same cache and the machine's two cores.
  app = await installTarball(tarball, ['serialport', 'node-pty', 'lzma-native']);
  lean = await installTarball(tarball, []);

  sim = spawn('npx', ['--no-install', 'mcumgr-sim', '--udp', '127.0.0.1:0', '--state', join(work, 'sim-state')], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // npx runs the simulator in a child: stop the whole group
  });
  simAddress = await new Promise<string>((resolve, reject) => {
    let out = '';
    sim.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^udp: (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    sim.on('exit', (code) => reject(new Error(`npx mcumgr-sim exited ${code}: ${out}`)));
  });
}, 600_000);

afterAll(async () => {
  if (sim?.pid !== undefined && sim.exitCode === null) {
    const exited = new Promise((r) => sim.on('exit', r));
    process.kill(-sim.pid, 'SIGTERM');
    await exited;
  }
  if (work) for (const dir of [work, app, lean]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds dist with type declarations, the LICENSE and nothing from test/ or src/', async () => {
    const r = await npm(['pack', '--dry-run', '--ignore-scripts', '--json'], ROOT);
    const files = (JSON.parse(r.stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    expect(files).toContain('LICENSE');
    for (const entry of ['index', 'node/index', 'image/node', 'device/index']) {
      expect(files).toContain(`dist/${entry}.js`);
      expect(files).toContain(`dist/${entry}.d.ts`);
    }
    expect(files.filter((f) => /^(test|src)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });
});

describe('installed with serialport and node-pty', () => {
  it('npx mcumgr --help', async () => {
    const r = await npx(['mcumgr', '--help'], app);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mcumgr /);
  });

  it('npx mcumgr echo and image list against npx mcumgr-sim', async () => {
    const conn = ['--conntype', 'udp', '--connstring', simAddress];
    const echo = await npx(['mcumgr', ...conn, 'echo', 'packed'], app);
    expect(echo).toMatchObject({ code: 0, stdout: 'packed\n' });
    const list = await npx(['mcumgr', ...conn, 'image', 'list'], app);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/image=0 slot=0\n\s+version: \S+/);
  });

  it("the README's Node example, compiled with moduleResolution nodenext, runs against the device", async () => {
    // The example connects to the simulator's documented default address; point it at this test's simulator.
    const source = readmeExample('node-example.ts');
    expect(source).toContain("'127.0.0.1:1337'");
    writeFileSync(join(app, 'node-example.ts'), source.replace("'127.0.0.1:1337'", `'${simAddress}'`));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          skipLibCheck: false,
          // @types/node from the checkout: the consumer's own dev dependency, not the package's sources.
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
          outDir: 'out',
        },
        files: ['node-example.ts'],
      }),
    );
    const tsc = await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const ran = await exec(process.execPath, ['out/node-example.js'], app, 30_000);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^hello\nimage 0 slot 0: \S+ active confirmed\n/);
  });

  it("the README's browser example type-checks with moduleResolution bundler and bundles for the browser without a Node built-in", async () => {
    const dir = join(app, 'web');
    mkdirSync(dir);
    writeFileSync(join(dir, 'browser-example.ts'), readmeExample('browser-example.ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          skipLibCheck: false,
          types: [],
          noEmit: true,
        },
        files: ['browser-example.ts'],
      }),
    );
    const tsc = await exec(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['browser-example.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: 'out',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('node_modules/mcumgr-ts/dist/'))).toBe(true);
    expect(inputs.filter((p) => p.startsWith('node:') || /^(fs|path|crypto|zlib|dgram|net|os)$/.test(p))).toEqual([]);
  });

  it('a browser build that imports mcumgr-ts/node stops with a message naming the browser entry', async () => {
    const dir = join(app, 'wrong');
    mkdirSync(dir);
    writeFileSync(join(dir, 'main.js'), "import { UdpTransport } from 'mcumgr-ts/node';\nconsole.log(UdpTransport);\n");
    const failure = await build({ absWorkingDir: dir, entryPoints: ['main.js'], bundle: true, platform: 'browser', write: false, logLevel: 'silent' }).then(
      () => undefined,
      (err: { errors: { text: string }[] }) => err.errors.map((e) => e.text).join('\n'),
    );
    expect(failure).toContain('mcumgr-ts/node, mcumgr-ts/image and mcumgr-ts/device need Node.js: in a browser, import from \\"mcumgr-ts\\"');
  });
});

describe('installed with lzma-native', () => {
  it('image sign --compression makes a compressed image that image verify checks decompressed', async () => {
    const out = join(work, 'app-compressed.bin');
    const thumb = join(ROOT, 'test/fixtures/lzma2/thumb.bin');
    const r = await npx(['mcumgr', 'image', 'sign', '-v', '1.0.0', '--pad-header', '-H', '0x200', '--compression', 'lzma2armthumb', thumb, out], app);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compressed: lzma2armthumb, 22064 of 49148 bytes/);
    const v = await npx(['mcumgr', 'image', 'verify', out], app);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/decompressed: hash [0-9a-f]{64} \(DECOMP_SHA\)/);
  });
});

describe('installed alone (no optional native package)', () => {
  it('has no native addon, and the CLI still works over UDP', async () => {
    for (const pkg of ['serialport', 'node-pty', '@serialport/bindings-cpp', 'lzma-native']) expect(existsSync(join(lean, 'node_modules', pkg))).toBe(false);
    const echo = await npx(['mcumgr', '--conntype', 'udp', '--connstring', simAddress, 'echo', 'lean'], lean);
    expect(echo).toMatchObject({ code: 0, stdout: 'lean\n' });
  });

  it('a serial connection says in one line what to install, and exits 3', async () => {
    const r = await npx(['mcumgr', '--conntype', 'serial', '--connstring', 'dev=/dev/ttyACM0', 'echo', 'x'], lean);
    expect(r).toMatchObject({ code: 3, stdout: '', stderr: 'Error: A serial port needs the optional package serialport: run npm install serialport\n' });
  });

  it('image sign --compression says in one line what to install, exits 3, and writes nothing', async () => {
    const out = join(work, 'lean-compressed.bin');
    const thumb = join(ROOT, 'test/fixtures/lzma2/thumb.bin');
    const r = await npx(['mcumgr', 'image', 'sign', '-v', '1.0.0', '--pad-header', '-H', '0x200', '--compression', 'lzma2', thumb, out], lean);
    expect(r).toMatchObject({
      code: 3,
      stdout: '',
      stderr: 'Error: LZMA2 image compression needs the optional package lzma-native: run npm install lzma-native\n',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('mcumgr-sim --serial says in one line what to install, and exits 3', async () => {
    const r = await npx(['mcumgr-sim', '--serial', 'pty', '--state', join(work, 'lean-state')], lean);
    expect(r).toMatchObject({ code: 3, stderr: 'mcumgr-sim: A pseudo-terminal needs the optional package node-pty: run npm install node-pty\n' });
  });
});
