/** The virtual device as MCUboot in serial recovery: entered at boot, left by a reset that boots a valid application. */
import { BootSerial } from './boot-serial.js';
import { resolveRecoveryConfig, type RecoveryConfig } from './config.js';
import { mcubootValidator, type BootValidator } from '../boot.js';
import type { Flash } from '../flash.js';
import { readSlotImage } from '../slot-image.js';

/** Zephyr's retention boot mode (BOOT_MODE_TYPE_BOOTLOADER) that MCUboot's CONFIG_BOOT_SERIAL_BOOT_MODE enters recovery on. */
export const BOOT_MODE_BOOTLOADER = 1;

const HASH_ONLY = mcubootValidator();

export interface RecoveryHost {
  flash: Flash;
  images: number;
  mode: number;
  validate: BootValidator;
  scheduleReset(): void;
}

export class RecoveryPersonality {
  readonly config: RecoveryConfig;
  private session: BootSerial | undefined;
  /** Counts the times recovery was entered: a new session starts with empty input buffers. */
  entries = 0;

  constructor(
    private readonly host: RecoveryHost,
    config: Partial<RecoveryConfig> = {},
  ) {
    this.config = resolveRecoveryConfig(config);
  }

  get active(): boolean {
    return this.session !== undefined;
  }

  /**
   * MCUboot's choice at boot (boot/zephyr/main.c): recovery when the boot mode asks for it, or, with
   * CONFIG_BOOT_SERIAL_NO_APPLICATION, when the slot image 0 boots from (the primary, or in direct-XIP and RAM-load
   * the one chosen) holds no image (here: no image whose hash checks; the signature is left out, since the device
   * seeds its first slot-0 image unsigned).
   */
  async shouldEnter(bootMode: number | undefined, bootSlot = 0): Promise<boolean> {
    if (bootMode === BOOT_MODE_BOOTLOADER) return true;
    if (!this.config.enterWhenNoApplication) return false;
    const image = this.host.flash.read(bootSlot);
    return !(readSlotImage(image) && (await HASH_ONLY(image)));
  }

  enter(): void {
    this.entries++;
    this.session = new BootSerial({
      flash: this.host.flash,
      images: this.host.images,
      mode: this.host.mode,
      config: this.config,
      validate: this.host.validate,
      requestReset: () => this.host.scheduleReset(),
    });
  }

  leave(): void {
    this.session = undefined;
  }

  /** Answers one request (none while not in recovery). */
  async handle(packet: Uint8Array): Promise<Uint8Array[]> {
    return (await this.session?.handle(packet)) ?? [];
  }
}
