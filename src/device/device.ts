import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic } from '../groups/basic.js';
import { allValidators, completeInterruptedSwaps, mcubootValidator, type BootEvent, type BootValidator } from './boot.js';
import { bootWithDecompression } from './compressed-image.js';
import { bootWithDecryption, decryptingValidator, type ResetEvent } from './encrypted-image.js';
import { resolveConfig, type DeviceConfig, type DeviceConfigInput } from './config.js';
import { Flash } from './flash.js';
import { registerEnum } from './groups/enum.js';
import { resolveFsPath } from './fs-sandbox.js';
import { registerFs, type FsTransfer } from './groups/fs.js';
import { registerImage, type UploadState } from './groups/image.js';
import { registerOs } from './groups/os.js';
import { registerSettings } from './groups/settings.js';
import { defaultShellCommands, registerShell, type ShellCommand } from './groups/shell.js';
import { registerStat } from './groups/stat.js';
import { GroupError } from './errors.js';
import { buildImage } from './firmware.js';
import { overwriteRecord, readJson, writeJson } from './persist.js';
import { bootForMode } from './recovery/boot-modes.js';
import { McubootMode, modePicksSlot } from '../groups/bootloader-modes.js';
import { RecoveryPersonality } from './recovery/personality.js';
import { SmpServer } from './server.js';
import type { SmpTransport } from '../transport/transport.js';

export interface CreateDeviceOptions {
  /** Directory holding flash slots, file system, settings and upload state. */
  stateDir: string;
  config?: DeviceConfigInput;
  /** First slot-0 image to seed instead of the generated one. */
  seedImage?: Uint8Array;
  /** Start in MCUboot's serial recovery (`mcumgr-sim --recovery`). */
  recovery?: boolean;
}

interface Meta {
  bootCount: number;
  clockOffsetMs: number;
  /** Direct-XIP and RAM-load: the slot each image runs from (MCUboot chose it at the last boot). */
  runningSlots?: number[];
}

/**
 * A virtual Zephyr smp_svr device with MCUboot: an SmpServer whose handlers work on an emulated
 * flash (two slots per image), a file system directory, settings and statistics, all kept in `stateDir`.
 */
export class VirtualDevice {
  readonly server: SmpServer;
  readonly config: DeviceConfig;
  readonly flash: Flash;
  readonly stateDir: string;
  readonly fsRoot: string;
  readonly settings = new Map<string, Uint8Array>();
  readonly shellCommands: Map<string, ShellCommand> = defaultShellCommands();
  fsTransfer: FsTransfer | undefined;
  upload: UploadState | undefined;
  /** MCUboot's serial recovery, when the bootloader is built with it. */
  readonly recovery: RecoveryPersonality | undefined;
  /** The retention boot mode `os reset` left for the bootloader. */
  private nextBootMode: number | undefined;
  clockOffsetMs = 0;
  bootCount = 0;
  private bootTime = performance.now();
  private resetTimer: ReturnType<typeof setTimeout> | undefined;
  private resetListeners: ((events: ResetEvent[]) => void)[] = [];
  /** Links a reboot drops (BLE connections). */
  private readonly connections = new Set<SmpTransport>();
  /** Serial consoles that show the boot banner. */
  private readonly consoles = new Set<(text: Uint8Array) => Promise<void>>();
  private closed = false;
  /** What MCUboot did at the last boot. */
  bootEvents: BootEvent[];
  private runningSlots: number[];

  private constructor(opts: CreateDeviceOptions) {
    this.config = resolveConfig(opts.config);
    this.stateDir = opts.stateDir;
    mkdirSync(this.stateDir, { recursive: true });
    this.server = new SmpServer({
      maxRequestSize: this.config.maxRequestSize,
      maxResponseSize: this.config.bufSize,
      legacyOverrides: this.config.legacyOverrides,
    });
    this.flash = new Flash(join(this.stateDir, 'flash'), 2 * this.config.images, this.config.slotSize);
    this.fsRoot = join(this.stateDir, 'fs');
    const firstStart = !existsSync(join(this.stateDir, 'device.json'));
    const meta = readJson<Meta>(join(this.stateDir, 'device.json'));
    this.bootCount = (meta?.bootCount ?? 0) + 1;
    this.clockOffsetMs = meta?.clockOffsetMs ?? 0;
    this.runningSlots = meta?.runningSlots ?? Array.from({ length: this.config.images }, (_, n) => 2 * n);
    if (firstStart) this.seed(opts.seedImage);
    // A start after a kill is a power-on in the middle of a reset: MCUboot finishes the swap it was doing.
    this.bootEvents = completeInterruptedSwaps(this.flash, this.config.images);
    for (const m of this.config.fs.mounts) mkdirSync(join(this.fsRoot, m.slice(1)), { recursive: true });
    this.upload = readJson<UploadState>(join(this.stateDir, 'upload.json'));
    const settings = readJson<Record<string, string>>(join(this.stateDir, 'settings.json')) ?? {};
    for (const [k, v] of Object.entries(settings)) this.settings.set(k, new Uint8Array(Buffer.from(v, 'base64')));
    this.saveMeta();
    this.registerGroups();
    this.recovery =
      this.config.recovery === false
        ? undefined
        : new RecoveryPersonality(
            {
              flash: this.flash,
              images: this.config.images,
              mode: this.config.mcubootMode,
              validate: this.validator(),
              scheduleReset: () => this.scheduleReset(),
            },
            this.config.recovery,
          );
    if (opts.recovery) this.enterRecovery();
  }

  /** MCUboot's image check: the hash, the signature when a key is configured, the configured extra check; an encrypted image decrypted. */
  private validator(): BootValidator {
    return decryptingValidator(allValidators(mcubootValidator(this.config.verificationKey), this.config.validateImage), this.config.encryptionKey);
  }

  /** The device is MCUboot in serial recovery from now on, until a reset boots an application. */
  enterRecovery(): void {
    if (!this.recovery) throw new Error('this device has no serial recovery (config "recovery": false)');
    this.recovery.enter();
    this.server.offline = true;
  }

  static async create(opts: CreateDeviceOptions): Promise<VirtualDevice> {
    return new VirtualDevice(opts);
  }

  /** Synchronous variant of `create`. */
  static createSync(opts: CreateDeviceOptions): VirtualDevice {
    return new VirtualDevice(opts);
  }

  private seed(seedImage?: Uint8Array): void {
    for (let n = 0; n < this.config.images; n++) {
      const img = n === 0 && seedImage ? seedImage : buildImage({ version: this.config.seedVersion, image: n });
      this.flash.erase(2 * n);
      this.flash.write(2 * n, 0, img);
      // Flashed confirmed (imgtool --confirm) and booted once: direct-XIP with revert erases a slot without a good magic.
      if (this.config.mcubootMode === McubootMode.DIRECT_XIP_REVERT) this.flash.writeTrailer(2 * n, { magic: true, imageOk: true, copyDone: true });
    }
    const files = this.config.fs.seedFiles ?? {};
    for (const [path, content] of Object.entries(files)) {
      const host = join(this.fsRoot, path);
      mkdirSync(join(host, '..'), { recursive: true });
      writeFileSync(host, typeof content === 'string' ? Buffer.from(content) : content);
    }
  }

  private registerGroups(): void {
    registerOs(this);
    registerImage(this);
    registerStat(this);
    if (this.config.settings) registerSettings(this);
    if (this.config.fs.enabled) registerFs(this);
    if (this.config.shell) registerShell(this);
    if (this.config.enumGroup) registerEnum(this);
    if (this.config.basicGroup) {
      this.server.setGroupName(63, 'zephyr basic mgmt');
      // basic_mgmt.c (Zephyr 4.1): erases storage_partition, answers {} (or a group-63 error).
      this.server.register(basic.eraseStorage, () => {
        rmSync(this.fsRoot, { recursive: true, force: true });
        for (const m of this.config.fs.mounts) mkdirSync(join(this.fsRoot, m.slice(1)), { recursive: true });
        this.settings.clear();
        this.saveSettings();
        return {};
      });
    }
    for (const name of this.config.disabledCommands ?? []) this.server.unregisterCommand(name);
  }

  uptimeMs(): number {
    return performance.now() - this.bootTime;
  }

  statValue(group: string, field: string): number {
    if (group === 'smp_svr_stats' && field === 'ticks') return Math.floor(this.uptimeMs() / 1000);
    const s = this.flash.stats as unknown as Record<string, number>;
    if (group === 'flash_sim_stats' && field in s) return s[field]!;
    if (group === 'my_stats') {
      const t = Math.floor(this.uptimeMs() / 1000);
      if (field === 'my_stat_1') return t * 3;
      if (field === 'my_stat_2') return t * 1000;
      if (field === 'my_stat_3') return 2 ** 32 + t;
    }
    return 0;
  }

  setUpload(up: UploadState | undefined): void {
    this.upload = up;
    const path = join(this.stateDir, 'upload.json');
    // Written in place, once per chunk, at a fixed length (JSON allows the trailing spaces): a rename or a
    // truncation per chunk costs more than the chunk. A write torn by a kill leaves unreadable JSON, which only
    // means the upload starts over.
    if (up) overwriteRecord(path, JSON.stringify(up), 256);
    else rmSync(path, { force: true });
  }

  saveSettings(): void {
    const out: Record<string, string> = {};
    for (const [k, v] of this.settings) out[k] = Buffer.from(v).toString('base64');
    writeJson(join(this.stateDir, 'settings.json'), out);
  }

  saveMeta(): void {
    writeJson(join(this.stateDir, 'device.json'), {
      bootCount: this.bootCount,
      clockOffsetMs: this.clockOffsetMs,
      runningSlots: this.runningSlots,
    } satisfies Meta);
  }

  /** The slot image n runs from: its primary, except in direct-XIP and RAM-load, where MCUboot picked it at boot. */
  runningSlot(n: number): number {
    return modePicksSlot(this.config.mcubootMode) ? (this.runningSlots[n] ?? 2 * n) : 2 * n;
  }

  /**
   * Lists a directory of the device file system (shell `fs ls`). Errors name the device path only, with
   * the messages of Zephyr's subsys/fs/shell.c (a negative errno), never a host path.
   */
  fsList(path: string): string[] {
    const cfg = this.config.fs;
    if (path === '/' || path === '') return cfg.mounts.map((m) => `${m.slice(1)}/`);
    const mount = cfg.mounts.find((m) => path === m || path === `${m}/`);
    try {
      const host = mount ? join(this.fsRoot, mount.slice(1)) : resolveFsPath(this, path, false);
      return readdirSync(host).map((e) => (statSync(join(host, e)).isDirectory() ? `${e}/` : e));
    } catch (err) {
      throw new Error(`Unable to open ${path} (err ${-errnoOf(err)})`);
    }
  }

  /** Reads a file of the device file system (shell `fs read`). */
  fsRead(path: string): Uint8Array {
    try {
      return readFileSync(resolveFsPath(this, path, false));
    } catch (err) {
      throw new Error(`Failed to obtain file ${path} (err: ${-errnoOf(err)})`);
    }
  }

  /** Registers a listener told after every (virtual) reboot, once the device answers again, with what the bootloader did. */
  onReset(listener: (events: ResetEvent[]) => void): void {
    this.resetListeners.push(listener);
  }

  /** Serves a connection-oriented link (BLE): a reboot drops it, as on a real device. */
  attachConnection(transport: SmpTransport): void {
    this.server.attach(transport);
    this.connections.add(transport);
    transport.onClose(() => this.connections.delete(transport));
  }

  /** Serves a serial link whose console (`write`, raw bytes on the same line) shows the boot banner after every reboot. */
  attachSerial(transport: SmpTransport, write: (text: Uint8Array) => Promise<void>): void {
    this.server.attach(transport);
    this.consoles.add(write);
    transport.onClose(() => this.consoles.delete(write));
  }

  /** The Zephyr kernel's first console line. */
  bootBanner(): string {
    return `*** Booting Zephyr OS build ${this.config.info.release || `v${this.config.info.version}`} ***\r\n`;
  }

  /** Answers first, reboots `resetDelayMs` later (os reset; `bootMode` 1 asks MCUboot for serial recovery). */
  scheduleReset(bootMode?: number): void {
    if (this.resetTimer) return;
    this.nextBootMode = bootMode;
    this.server.goesDownAt = performance.now() + this.config.resetDelayMs;
    this.resetTimer = setTimeout(() => {
      this.resetTimer = undefined;
      if (!this.closed) void this.reset();
    }, this.config.resetDelayMs);
  }

  /**
   * Reboots now, as a real device does: it stops answering (requests are dropped, BLE links drop, transfer
   * state is lost), MCUboot runs (swap, revert, or refuse an invalid image), and `bootTimeMs` later the
   * application is up: serial consoles print the boot banner, requests are answered again, listeners are told.
   */
  async reset(): Promise<ResetEvent[]> {
    this.server.offline = true;
    this.server.goesDownAt = undefined;
    for (const link of this.connections) void link.close().catch(() => undefined);
    if (this.fsTransfer?.timer) clearTimeout(this.fsTransfer.timer);
    this.fsTransfer = undefined;
    this.setUpload(undefined);
    this.recovery?.leave();
    const slots = {
      offsetOf: (slot: number) => this.config.firstSlotOffset + slot * this.config.slotSize,
      running: (n: number) => this.runningSlot(n),
    };
    const events = await bootWithDecryption(this.flash, this.config.images, this.config.encryptionKey, () =>
      bootWithDecompression(this.flash, this.config.images, this.config, this.validator(), (validate, copyOverride) =>
        bootForMode(this.flash, this.config.images, this.config.mcubootMode, validate, slots, copyOverride),
      ),
    );
    for (const e of events) if (e.slot !== undefined) this.runningSlots[e.image] = e.slot;
    this.bootEvents = events;
    const bootMode = this.nextBootMode;
    this.nextBootMode = undefined;
    this.bootCount++;
    this.saveMeta();
    await new Promise((resolve) => setTimeout(resolve, this.config.bootTimeMs));
    if (this.closed) return events;
    if (this.recovery && (await this.recovery.shouldEnter(bootMode, this.runningSlot(0)))) {
      // MCUboot stays in serial recovery: the application does not start, its SMP server stays silent.
      this.recovery.enter();
      for (const l of this.resetListeners) l(events);
      return events;
    }
    const banner = new TextEncoder().encode(this.bootBanner());
    await Promise.all([...this.consoles].map((write) => write(banner).catch(() => undefined)));
    this.bootTime = performance.now();
    this.server.offline = false;
    for (const l of this.resetListeners) l(events);
    return events;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resetTimer) clearTimeout(this.resetTimer);
    if (this.fsTransfer?.timer) clearTimeout(this.fsTransfer.timer);
    for (const t of this.server.attachedTransports()) await t.close().catch(() => undefined);
  }
}

/** The errno Zephyr's file system API would return for a failure of ours: ENOENT, ENOTDIR, EISDIR or EINVAL. */
function errnoOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOTDIR' ? 20 : code === 'EISDIR' ? 21 : code === 'ENOENT' || err instanceof GroupError ? 2 : 22;
}
