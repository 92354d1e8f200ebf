import { TYPICAL_FLASH } from '../link/device-endpoint.js';

/** How MCUboot was built, as far as its serial recovery shows it (Kconfig names of MCUboot's Zephyr port). */
export interface RecoveryConfig {
  /** CONFIG_BOOT_SERIAL_MAX_RECEIVE_SIZE: the decoded request (length, packet, CRC) must fit it (+1). MCUboot's default is 512. */
  maxReceiveSize: number;
  /** CONFIG_BOOT_MAX_LINE_INPUT_LEN: a console line longer than this is dropped. */
  lineLength: number;
  /** flash_area_align(): the upload writes whole units of it. */
  writeAlign: number;
  /** Flash sector size (progressive erase, and the swap-using-move/offset padding of max_image_size). */
  sectorSize: number;
  /** CONFIG_BOOT_SERIAL_IMG_GRP_IMAGE_STATE: image state write and the flags in the list. */
  imageState: boolean;
  /** CONFIG_BOOT_SERIAL_IMG_GRP_HASH: hashes in the list, and test/confirm by hash. */
  hash: boolean;
  /** CONFIG_BOOT_SERIAL_IMG_GRP_SLOT_INFO. */
  slotInfo: boolean;
  /** CONFIG_BOOT_MGMT_ECHO. */
  echo: boolean;
  /** CONFIG_BOOT_SERIAL_MCUMGR_PARAMS (MCUboot after the recorded build: buf_size = the receive size, buf_count 1). */
  mcumgrParams: boolean;
  /** CONFIG_MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD: `image` 0/1 = image 0's primary slot, 2 its secondary, 3 image 1's primary… */
  directImageUpload: boolean;
  /** CONFIG_BOOT_ERASE_PROGRESSIVELY: erase sectors as the upload reaches them instead of the whole slot at `off: 0`. */
  progressiveErase: boolean;
  /** CONFIG_BOOT_SERIAL_RAW_PROTOCOL_INPUT_TIMEOUT_MS: a partial raw packet is thrown away after this much silence. */
  rawInputTimeoutMs: number;
  /** CONFIG_BOOT_SERIAL_NO_APPLICATION: enter recovery when the primary slot holds no valid image. */
  enterWhenNoApplication: boolean;
  /**
   * Time to erase one flash sector (ms). The whole-slot erase of an `off: 0` chunk takes the slot's sectors times
   * this, and boot_serial reads no input meanwhile. Not recorded: the emulated links' typical flash
   * (TYPICAL_FLASH in src/device/link/device-endpoint.ts).
   */
  sectorEraseMs: number;
}

/** MCUboot 346f7374 as recorded in test/fixtures/mcuboot (section A of its README). */
export function defaultRecoveryConfig(): RecoveryConfig {
  return {
    maxReceiveSize: 1024,
    lineLength: 128,
    writeAlign: 4,
    sectorSize: 4096,
    imageState: true,
    hash: true,
    slotInfo: true,
    echo: true,
    mcumgrParams: false,
    directImageUpload: false,
    progressiveErase: false,
    rawInputTimeoutMs: 3000,
    enterWhenNoApplication: true,
    sectorEraseMs: TYPICAL_FLASH.sectorEraseMs,
  };
}

export function resolveRecoveryConfig(input: Partial<RecoveryConfig> = {}): RecoveryConfig {
  return { ...defaultRecoveryConfig(), ...input };
}
