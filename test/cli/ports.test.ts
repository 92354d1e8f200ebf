/**
 * Finding a serial board and keeping it. No USB device exists here: `mcumgr-sim --usb` serves a real
 * pseudo-terminal under a USB identity and, like a CDC-ACM board, re-enumerates under a new path on every reset;
 * the port list the host would see is a JSON file that `mcumgr` reads through MCUMGR_PORTS_FILE.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSerialConnstring, serialPath, type SerialSession } from '../../src/cli/connect.js';
import { findUsbPort, matchPorts, parseUsbId, preferredPortPath, type PortInfo } from '../../src/cli/ports.js';
import { profilePath } from '../../src/cli/profiles.js';
import { buildImage } from '../../src/device/firmware.js';
import { openPty, type Pty } from '../../src/node/pty.js';
import { run, Simulator, tempDir } from './helpers.js';

const app: PortInfo = { path: '/dev/ttyACM0', vendorId: '2fe3', productId: '0100', manufacturer: 'ZEPHYR', serialNumber: 'E66038B7' };
const bootloader: PortInfo = { path: '/dev/ttyACM1', vendorId: '2fe3', productId: '0005', manufacturer: 'ZEPHYR', serialNumber: 'E66038B7' };
const other: PortInfo = { path: '/dev/ttyACM2', vendorId: '2fe3', productId: '0100', manufacturer: 'ZEPHYR', serialNumber: '0A1B2C3D' };
const adapter: PortInfo = { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', manufacturer: 'FTDI' };

describe('matching ports by USB identity', () => {
  it('reads VID:PID in hex as lsusb and Windows print them', () => {
    expect(parseUsbId('2FE3:0100')).toEqual({ vendorId: '2fe3', productId: '0100' });
    expect(parseUsbId('0x2fe3:0x100', 'SN1')).toEqual({ vendorId: '2fe3', productId: '0100', serialNumber: 'SN1' });
    expect(() => parseUsbId('zephyr')).toThrow(/expected VID:PID in hex, e\.g\. usb=2fe3:0100/);
  });

  it('VID:PID picks every board of that kind; a serial number picks one, also under its bootloader PID', () => {
    expect(matchPorts([app, other, adapter], parseUsbId('2fe3:0100')).map((p) => p.path)).toEqual(['/dev/ttyACM0', '/dev/ttyACM2']);
    expect(matchPorts([app, other, adapter], parseUsbId('2fe3:0100', 'E66038B7'))).toEqual([app]);
    expect(matchPorts([bootloader, other], parseUsbId('2fe3:0100', 'E66038B7'))).toEqual([bootloader]);
  });

  it('none: names what was found; several: names them and asks for serial=', async () => {
    await expect(findUsbPort(async () => [adapter], parseUsbId('2fe3:0100'))).rejects.toThrow(
      'No serial port of USB device 2fe3:0100 (is it connected?); found these ports:\n  /dev/ttyUSB0 (0403:6001, FTDI)',
    );
    await expect(findUsbPort(async () => [], parseUsbId('2fe3:0100'))).rejects.toThrow(/found no serial ports at all/);
    await expect(findUsbPort(async () => [app, other], parseUsbId('2fe3:0100'))).rejects.toThrow(
      /2 serial ports match USB device 2fe3:0100:\n {2}\/dev\/ttyACM0 \(2fe3:0100, ZEPHYR, serial E66038B7\)\n {2}\/dev\/ttyACM2 .*\nadd serial=SN/,
    );
  });

  it('a board opened by usb= or by path is found again by its identity after it re-enumerates', async () => {
    let ports = [app, adapter];
    const provider = async () => ports;
    const byUsb: SerialSession = {};
    expect(await serialPath(parseSerialConnstring('usb=2fe3:0100'), byUsb, provider)).toBe('/dev/ttyACM0');
    const byPath: SerialSession = {};
    expect(await serialPath(parseSerialConnstring('dev=/dev/ttyACM0'), byPath, provider)).toBe('/dev/ttyACM0');
    // Reset into the bootloader: another PID, another path, the same serial number.
    ports = [adapter, { ...bootloader, path: '/dev/ttyACM3' }];
    expect(await serialPath(parseSerialConnstring('usb=2fe3:0100'), byUsb, provider)).toBe('/dev/ttyACM3');
    expect(await serialPath(parseSerialConnstring('dev=/dev/ttyACM0'), byPath, provider)).toBe('/dev/ttyACM3');
  });

  it('serial connstring: usb=, serial=, dtr=, rts=; conflicting or bad keys are usage errors', () => {
    expect(parseSerialConnstring('usb=2fe3:0100,serial=E66038B7,baud=1000000,dtr=off,rts=on')).toEqual({
      dev: '',
      baud: 1000000,
      dtr: false,
      rts: true,
      usb: { vendorId: '2fe3', productId: '0100', serialNumber: 'E66038B7' },
    });
    expect(parseSerialConnstring('COM7')).toEqual({ dev: 'COM7', baud: 115200 });
    expect(() => parseSerialConnstring('dev=/dev/ttyACM0,usb=2fe3:0100')).toThrow(/dev= or usb=.*not both/);
    expect(() => parseSerialConnstring('dev=/dev/ttyACM0,serial=X')).toThrow(/serial= in the connstring needs usb=VID:PID/);
    expect(() => parseSerialConnstring('dev=/dev/ttyACM0,dtr=maybe')).toThrow(/Invalid dtr "maybe" in connstring \(on or off\)/);
    expect(() => parseSerialConnstring('baud=9600')).toThrow(/lacks a device: use --connstring dev=\/dev\/ttyACM0 \(or usb=VID:PID/);
  });

  it('macOS: /dev/tty.* (which waits for carrier detect) is opened as /dev/cu.*; Windows COM names pass', () => {
    expect(preferredPortPath('/dev/tty.usbmodem1101', 'darwin')).toBe('/dev/cu.usbmodem1101');
    expect(preferredPortPath('/dev/cu.usbmodem1101', 'darwin')).toBe('/dev/cu.usbmodem1101');
    expect(preferredPortPath('/dev/tty.usbmodem1101', 'linux')).toBe('/dev/tty.usbmodem1101');
    expect(preferredPortPath('COM12', 'win32')).toBe('COM12');
  });

  it('the profile file is where the Go tool (go-homedir) keeps it on each system', () => {
    expect(profilePath({ HOME: '/home/ada' }, 'linux')).toBe('/home/ada/.mcumgr.cp.json');
    expect(profilePath({ HOME: '/Users/ada' }, 'darwin')).toBe('/Users/ada/.mcumgr.cp.json');
    expect(profilePath({ USERPROFILE: 'C:\\Users\\ada' }, 'win32')).toBe('C:\\Users\\ada\\.mcumgr.cp.json');
    expect(profilePath({ HOMEDRIVE: 'D:', HOMEPATH: '\\home\\ada' }, 'win32')).toBe('D:\\home\\ada\\.mcumgr.cp.json');
    expect(profilePath({ HOME: 'C:\\msys\\ada', USERPROFILE: 'C:\\Users\\ada' }, 'win32')).toBe('C:\\msys\\ada\\.mcumgr.cp.json');
  });
});

describe('mcumgr ports, usb= and re-enumeration against a USB CDC-ACM virtual device', () => {
  let sim: Simulator;
  let silent: Pty;
  let dir: string;
  const env = (): NodeJS.ProcessEnv => ({ MCUMGR_PORTS_FILE: sim.portsFile });
  const listed = (): PortInfo[] => JSON.parse(readFileSync(sim.portsFile!, 'utf8')) as PortInfo[];

  beforeAll(async () => {
    sim = await Simulator.start({ usb: '2fe3:0100,serial=E66038B7,manufacturer=ZEPHYR' });
    silent = openPty();
    dir = tempDir();
  });
  afterAll(async () => {
    silent?.close();
    await sim?.stop();
  });

  it('ports lists path, VID:PID, manufacturer and serial number; --probe marks the port that answers SMP', async () => {
    const port = listed()[0]!;
    expect(port.path).toBe(sim.ptyPath);
    const r = await run(['ports'], env());
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `${port.path}  2fe3:0100  ZEPHYR  E66038B7\n` });
    // A second port, a pseudo-terminal nothing answers on, under another identity.
    const both = join(dir, 'both.json');
    writeFileSync(both, JSON.stringify([port, { path: silent.path, vendorId: '0403', productId: '6001', manufacturer: 'FTDI' }]));
    const probed = await run(['--json', 'ports', '--probe'], { MCUMGR_PORTS_FILE: both });
    expect(probed).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(probed.stdout) as { ports: unknown[] }).ports).toEqual([
      { ...port, smp: true },
      { path: silent.path, vendorId: '0403', productId: '6001', manufacturer: 'FTDI', smp: false },
    ]);
    const human = await run(['ports', '--probe'], { MCUMGR_PORTS_FILE: both });
    expect(human.stdout.split('\n')[0]).toMatch(/ {2}SMP$/);
  });

  it('on Linux without udevadm (which serialport lists ports with) ports says what to install, exit 3', async () => {
    if (process.platform !== 'linux') return;
    const r = await run(['ports'], { PATH: tempDir(), MCUMGR_PORTS_FILE: '' });
    expect(r).toEqual({ code: 3, stdout: '', stderr: 'Error: listing serial ports needs udevadm (Debian: apt-get install udev)\n' });
  });

  it('usb= picks the port; none matching lists what was found (exit 3), several ask for serial= (exit 64)', async () => {
    expect(await run(['--conntype', 'serial', '--connstring', 'usb=2fe3:0100', 'echo', 'found'], env())).toMatchObject({ code: 0, stdout: 'found\n' });
    const none = await run(['--conntype', 'serial', '--connstring', 'usb=1915:520f', 'echo', 'x'], env());
    expect(none).toMatchObject({ code: 3, stdout: '' });
    expect(none.stderr).toBe(
      `Error: No serial port of USB device 1915:520f (is it connected?); found these ports:\n  ${sim.ptyPath} (2fe3:0100, ZEPHYR, serial E66038B7)\n`,
    );
    const twice = join(dir, 'twice.json');
    writeFileSync(twice, JSON.stringify([listed()[0], { ...listed()[0], path: silent.path, serialNumber: 'OTHER' }]));
    const several = await run(['--conntype', 'serial', '--connstring', 'usb=2fe3:0100', 'echo', 'x'], { MCUMGR_PORTS_FILE: twice });
    expect(several.code).toBe(64);
    expect(several.stderr).toMatch(/2 serial ports match USB device 2fe3:0100:[\s\S]*add serial=SN/);
  });

  it('dtr= and rts= reach the port: a pseudo-terminal has no modem lines, and says so (exit 3)', async () => {
    const r = await run(['--conntype', 'serial', '--connstring', 'usb=2fe3:0100,dtr=on,rts=off', 'echo', 'x'], env());
    expect(r).toMatchObject({ code: 3, stdout: '' });
    expect(r.stderr).toMatch(/^Error: Cannot set DTR\/RTS on \/dev\/pts\/\d+: .*Inappropriate ioctl for device/);
  });

  it('image upgrade follows the board to its new path after the reset, by usb= and by the dev= path it had', async () => {
    for (const [version, connstring] of [
      ['4.0.0', () => 'usb=2fe3:0100,serial=E66038B7'],
      ['4.1.0', () => `dev=${listed()[0]!.path}`],
    ] as const) {
      const before = listed()[0]!.path;
      const file = join(dir, `app-${version}.bin`);
      writeFileSync(file, buildImage({ version, body: new Uint8Array(randomBytes(12_000)) }));
      const reset = sim.nextReset();
      const r = await run(['--conntype', 'serial', '--connstring', connstring(), '--json', 'image', 'upgrade', file], env());
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ upgraded: true, version });
      expect(await reset).toBe('reset: image 0 test');
      const after = listed()[0]!.path;
      expect(after).not.toBe(before);
      expect(await run(['--conntype', 'serial', '--connstring', `dev=${after}`, 'echo', 'moved'])).toMatchObject({ code: 0, stdout: 'moved\n' });
    }
  });
});
