import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RecoveryConfig } from './recovery/config.js';

/** Configuration of the virtual device; every field optional, defaults look like a default smp_svr build. */
export interface StatGroupConfig {
  name: string;
  /** Field name → bit width (16, 32 or 64); values come from the device's counters. */
  fields: Record<string, 16 | 32 | 64>;
  /** Zephyr answers `{"rc": 7}` when the group does not fit its buffer (flash_sim_stats on the recorded device). */
  tooLarge?: boolean;
}

export interface FsConfig {
  enabled: boolean;
  /** Mount points, e.g. ["/lfs"]. */
  mounts: string[];
  /** Bytes of file data the file system holds (littlefs-like accounting by blocks). */
  capacity: number;
  blockSize: number;
  /** Files up to this size are stored inline (no data block). */
  inlineMax: number;
  pathMax: number;
  hashes: ('crc32' | 'sha256')[];
  supportedHashesCommand: boolean;
  idleCloseMs: number;
  /** Files to create on first start: path → content. */
  seedFiles?: Record<string, Uint8Array | string>;
  /** Access hook: return an MGMT_ERR code to deny. */
  accessHook?: (op: 'upload' | 'download' | 'status' | 'hash', path: string) => number | undefined;
}

/**
 * Where a recording exists (test/fixtures/zephyr-3.4-smp) the device answers as recorded. Behaviours no recording
 * backs follow the source named on each field ("Not recorded: ..."). The recordings come from native_sim without
 * a bootloader, so nothing about swaps, reboots or MCUboot is recorded.
 */
export interface DeviceConfig {
  bufSize: number;
  bufCount: number;
  /**
   * Requests larger than this are dropped without an answer. Default `bufSize`: Zephyr's UDP transport reads a
   * datagram into a buffer of CONFIG_MCUMGR_TRANSPORT_UDP_MTU (smp_udp.c). The serial transport holds 4 bytes
   * less (its length field and CRC share the buffer): the recorded device dropped a 1021-byte request silently
   * with 1024-byte buffers (os_echo_oversize_1007_v1 in the vectors' index); see `serialMaxRequest`.
   */
  maxRequestSize?: number;
  /** Not recorded (one image): multi-image slots and `image` numbers follow Zephyr img_mgmt.c (img_mgmt_state.c). */
  images: number;
  /**
   * Not recorded: flash of 4 KiB sectors; MCUboot's swap using move with its swap status in the primary trailer,
   * resumed after a power cut (mcu-tools/mcuboot boot/bootutil/src/swap_move.c, swap_misc.c, loader.c,
   * bootutil_public.c for the swap-type table); see src/device/boot.ts.
   */
  slotSize: number;
  /** Version of the image seeded into slot 0 on first start. */
  seedVersion: string;
  /** Extra MCUboot validation of a secondary image at reset (e.g. signatures). */
  validateImage?: (image: Uint8Array) => boolean;
  /**
   * PEM public key MCUboot checks secondary-image signatures with at swap time.
   * Without it only the image hash is checked; with it unsigned images and images signed by another key are refused.
   */
  verificationKey?: string;
  /**
   * Key MCUboot decrypts encrypted secondary images with at swap time: a PEM private key (RSA-2048, EC P-256 or
   * X25519), or the raw bytes of an AES key-wrap key (16 or 32 bytes, ENC_KW).
   */
  encryptionKey?: string | Uint8Array;
  /**
   * Not recorded: MCUboot built with image decompression (Nordic's MCUboot, CONFIG_BOOT_DECOMPRESSION /
   * MCUBOOT_DECOMPRESS_IMAGES: nrfconnect/sdk-mcuboot boot/zephyr/decompression.c, loader.c, image_validate.c). In
   * overwrite-only mode a pending LZMA2-compressed secondary image is checked and written decompressed to the
   * primary slot; without it, or in any other mode, a compressed image is refused (compressed-image.ts).
   */
  decompressImages: boolean;
  /** `match` on the last upload chunk and immediate completion when the slot already holds the data. */
  imageCheck: boolean;
  /**
   * Reported by `os bootloader info` (recorded: 3). Swap modes swap using move (boot.ts); overwrite-only, direct-XIP
   * (with and without revert) and RAM-load boot as recovery/boot-modes.ts describes; the others move nothing.
   */
  mcubootMode: number;
  /**
   * Not recorded: flash offset of image 0's primary slot; slot s lies at `firstSlotOffset + s × slotSize`. In
   * direct-XIP an image signed with `--rom-fixed` boots only from the slot at its address (MCUboot loader.c).
   */
  firstSlotOffset: number;
  /** Not recorded: refusal of an older `upgrade` image follows Zephyr img_mgmt.c (IMG_MGMT_ERR_IMAGE_VERSION_DOWNGRADE). */
  noDowngrade: boolean;
  /** Not recorded (the recorded build has no datetime): follows Zephyr os_mgmt.c (os_mgmt_datetime_read/write). */
  datetime: boolean;
  /** Recorded without stack info; with it, fields follow Zephyr os_mgmt.c (os_mgmt_taskstat_encode_stack_info). */
  taskstatStackInfo: boolean;
  info: {
    kernel: string;
    nodeName: string;
    release: string;
    version: string;
    /** undefined → format `b` is invalid. */
    buildDate?: string;
    machine: string;
    processor: string;
    board: string;
    os: string;
  };
  stats: StatGroupConfig[];
  fs: FsConfig;
  /** Not recorded (disabled on the recorded build): follows Zephyr settings_mgmt.c. */
  settings: boolean;
  /** Recorded (shell exec); the `fs ls`/`fs read` commands print as Zephyr subsys/fs/shell.c. */
  shell: boolean;
  /** Not recorded (disabled on the recorded build): follows Zephyr enum_mgmt.c. */
  enumGroup: boolean;
  /** Not recorded (disabled on the recorded build): erase storage follows Zephyr basic_mgmt.c. */
  basicGroup: boolean;
  /**
   * Not recorded (the recorded native_sim process exited at reset): the answer comes first and the reboot
   * after, as Zephyr os_mgmt.c's reset work item (CONFIG_MCUMGR_GRP_OS_RESET_MS) does.
   */
  resetDelayMs: number;
  /**
   * Not recorded: a reboot runs MCUboot (boot.ts) and the kernel; meanwhile nothing answers, BLE links drop,
   * and the serial console prints the kernel's boot banner (zephyr kernel/banner.c).
   */
  bootTimeMs: number;
  /** Commands to leave out, by definition name (e.g. `"os.params"` for a build without MCUMGR_GRP_OS_MCUMGR_PARAMS). */
  disabledCommands?: string[];
  /** SMP v1 translation overrides (see ServerOptions.legacyOverrides). */
  legacyOverrides?: Record<number, number | Record<number, number>>;
  /** MCUboot's serial recovery as built (recovery/config.ts), or false for a bootloader without it. */
  recovery?: Partial<RecoveryConfig> | false;
}

export type DeviceConfigInput = Partial<Omit<DeviceConfig, 'info' | 'fs'>> & {
  info?: Partial<DeviceConfig['info']>;
  fs?: Partial<FsConfig>;
};

export const DEFAULT_STATS: StatGroupConfig[] = [
  { name: 'smp_svr_stats', fields: { ticks: 32 } },
  { name: 'my_stats', fields: { my_stat_1: 16, my_stat_2: 32, my_stat_3: 64 } },
  {
    name: 'flash_sim_stats',
    fields: {
      bytes_read: 32,
      bytes_written: 32,
      double_writes: 32,
      flash_read_calls: 32,
      flash_read_time_us: 32,
      flash_write_calls: 32,
      flash_write_time_us: 32,
      flash_erase_calls: 32,
      flash_erase_time_us: 32,
    },
  },
];

export function defaultConfig(): DeviceConfig {
  return {
    bufSize: 1024,
    bufCount: 4,
    images: 1,
    slotSize: 0x40000,
    seedVersion: '1.0.0',
    imageCheck: true,
    decompressImages: false,
    mcubootMode: 1,
    firstSlotOffset: 0x10000,
    noDowngrade: false,
    datetime: true,
    taskstatStackInfo: true,
    info: {
      kernel: 'Zephyr',
      nodeName: 'mcumgr-sim',
      release: 'v3.4.99',
      version: '3.4.99',
      buildDate: 'Tue Nov 24 11:09:03 2026',
      machine: 'posix',
      processor: 'unknown',
      board: 'native_sim',
      os: 'Zephyr',
    },
    stats: DEFAULT_STATS,
    fs: {
      enabled: true,
      mounts: ['/lfs'],
      capacity: 1 << 20,
      blockSize: 4096,
      inlineMax: 64,
      pathMax: 64,
      hashes: ['crc32', 'sha256'],
      supportedHashesCommand: true,
      idleCloseMs: 4000,
    },
    settings: true,
    shell: true,
    enumGroup: true,
    basicGroup: true,
    resetDelayMs: 250,
    bootTimeMs: 200,
    // Recorded (fs_status_missing_file_v1 and every fs error over SMP v1): Zephyr 3.4's fs group answers rc 1.
    legacyOverrides: { 8: 1 },
  };
}

/** Configured like the device the vectors in test/fixtures/zephyr-3.4-smp were recorded from. */
export function zephyr34SmpSvrConfig(): DeviceConfigInput {
  return {
    bufSize: 1024,
    bufCount: 4,
    seedVersion: '1.2.3+4',
    imageCheck: false,
    mcubootMode: 3,
    datetime: false,
    taskstatStackInfo: false,
    info: { nodeName: 'unknown', release: '', machine: 'posix', processor: 'unknown', board: 'native_sim' },
    stats: [
      { name: 'flash_sim_stats', fields: DEFAULT_STATS[2]!.fields, tooLarge: true },
      { name: 'flash_sim_thresholds', fields: { max_write_calls: 32, max_erase_calls: 32, max_len: 32 } },
      { name: 'smp_svr_stats', fields: { ticks: 32 } },
    ],
    fs: { mounts: ['/lfs1'], capacity: 2 * 4096, hashes: ['crc32'], supportedHashesCommand: false },
    settings: false,
    enumGroup: false,
    basicGroup: false,
    legacyOverrides: { 8: 1 },
  };
}

export function resolveConfig(input: DeviceConfigInput = {}): DeviceConfig {
  const d = defaultConfig();
  const bufSize = input.bufSize ?? d.bufSize;
  return { ...d, maxRequestSize: bufSize, ...input, info: { ...d.info, ...input.info }, fs: { ...d.fs, ...input.fs } } as DeviceConfig;
}

/**
 * Reads a `--config` JSON file. `"verificationKeyFile": "path.pem"` (relative to the config file)
 * is read into `verificationKey` (PEM public key MCUboot checks image signatures with), `"encryptionKeyFile"`
 * into `encryptionKey` (PEM private key or raw AES key-wrap key MCUboot decrypts encrypted images with).
 * `"decompressImages": true` builds MCUboot with image decompression.
 */
export function loadSimConfig(file: string): DeviceConfigInput {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as DeviceConfigInput & { verificationKeyFile?: unknown; encryptionKeyFile?: unknown };
  const { verificationKeyFile, encryptionKeyFile, ...config } = raw;
  if (config.decompressImages !== undefined && typeof config.decompressImages !== 'boolean')
    throw new Error('config: "decompressImages" must be true or false');
  if (encryptionKeyFile !== undefined) {
    if (typeof encryptionKeyFile !== 'string') throw new Error('config: "encryptionKeyFile" must be a path string');
    config.encryptionKey = new Uint8Array(readFileSync(resolve(dirname(file), encryptionKeyFile)));
  }
  if (verificationKeyFile !== undefined) {
    if (typeof verificationKeyFile !== 'string') throw new Error('config: "verificationKeyFile" must be a path string');
    config.verificationKey = readFileSync(resolve(dirname(file), verificationKeyFile), 'utf8');
  }
  return config;
}

/** Largest request the serial (shell) transport takes: its net_buf also holds the frame's length and CRC. */
export function serialMaxRequest(config: DeviceConfig): number {
  return Math.min(config.maxRequestSize ?? config.bufSize, config.bufSize - 4);
}

/**
 * How the device's serial transport reads: packets up to `serialMaxRequest`, each frame's base64 decoded on its
 * own (Zephyr smp_shell.c / serial_util.c, and the recorded frame_split_not_multiple_of_4 case).
 */
export function deviceSerialOptions(config: DeviceConfig): { mtu: number; maxReceivePacket: number; framesDecodedAlone: true } {
  return { mtu: config.bufSize, maxReceivePacket: serialMaxRequest(config), framesDecodedAlone: true };
}
