/** Base of every error this library raises on purpose. */
export class SmpError extends Error {
  override name = 'SmpError';
}

/** A frame or header that cannot be an SMP packet (too short, length mismatch, bad CRC...). */
export class SmpFrameError extends SmpError {
  override name = 'SmpFrameError';
}

/** A payload that is not acceptable CBOR (malformed, too deep, too large, duplicate keys...). */
export class SmpCborError extends SmpError {
  override name = 'SmpCborError';
}

/** A payload whose fields do not have the shape the command defines. */
export class SmpShapeError extends SmpError {
  override name = 'SmpShapeError';
}

/** A request that no SMP packet can carry (its payload exceeds the header's 16-bit length field). */
export class SmpRequestTooLargeError extends SmpError {
  override name = 'SmpRequestTooLargeError';
}

/** No response came within the timeout, after all tries. */
export class SmpTimeoutError extends SmpError {
  override name = 'SmpTimeoutError';
}

/** The caller aborted the request through its AbortSignal. */
export class SmpAbortError extends SmpError {
  override name = 'SmpAbortError';
}

interface CodeInfo {
  name: string;
  message: string;
  /** SMP v1 code Zephyr sends instead of this group code (its per-group translation table). */
  legacy?: number;
}

// Stryker disable all: data transcribed from Zephyr's *_mgmt_err_code_t enums and Kconfig names, not logic (TESTING.md)
export const MGMT_ERR: Record<number, CodeInfo> = {
  0: { name: 'MGMT_ERR_EOK', message: 'success' },
  1: { name: 'MGMT_ERR_EUNKNOWN', message: 'unknown error' },
  2: { name: 'MGMT_ERR_ENOMEM', message: 'the device is out of memory or buffers' },
  3: { name: 'MGMT_ERR_EINVAL', message: 'invalid request: a field is missing or has the wrong type' },
  4: { name: 'MGMT_ERR_ETIMEOUT', message: 'the operation timed out on the device' },
  5: { name: 'MGMT_ERR_ENOENT', message: 'no such file or entry' },
  6: { name: 'MGMT_ERR_EBADSTATE', message: 'the current state of the device does not allow this command' },
  7: { name: 'MGMT_ERR_EMSGSIZE', message: 'the response does not fit in the device buffer' },
  8: { name: 'MGMT_ERR_ENOTSUP', message: 'the command is not supported by the device (not enabled in its build)' },
  9: { name: 'MGMT_ERR_ECORRUPT', message: 'corrupt request: the header length is larger than the data received' },
  10: { name: 'MGMT_ERR_EBUSY', message: 'the device is busy with another operation' },
  11: { name: 'MGMT_ERR_EACCESSDENIED', message: 'access denied' },
  12: { name: 'MGMT_ERR_UNSUPPORTED_TOO_OLD', message: 'SMP v1 requests are not supported by this device; use SMP v2' },
  13: { name: 'MGMT_ERR_UNSUPPORTED_TOO_NEW', message: 'the SMP version of the request is too new for this device; use SMP v1' },
};
// Stryker restore all

function table(prefix: string, rows: [string, string, number][]): Record<number, CodeInfo> {
  const out: Record<number, CodeInfo> = {};
  rows.forEach(([name, message, legacy], rc) => {
    out[rc] = { name: `${prefix}_${name}`, message, legacy };
  });
  return out;
}

export const GroupId = {
  OS: 0,
  IMAGE: 1,
  STAT: 2,
  SETTINGS: 3,
  FS: 8,
  SHELL: 9,
  ENUM: 10,
  ZEPHYR_BASIC: 63,
} as const;

// Stryker disable all: data transcribed from Zephyr's MGMT_GROUP_ID_* enum, not logic (TESTING.md)
export const GROUP_NAMES: Record<number, string> = {
  0: 'os',
  1: 'image',
  2: 'stat',
  3: 'settings',
  4: 'log',
  5: 'crash',
  6: 'split',
  7: 'run',
  8: 'fs',
  9: 'shell',
  10: 'enum',
  11: 'transport',
  63: 'zephyr basic',
};
// Stryker restore all

/** Group error codes and their SMP v1 translations, per Zephyr's `*_mgmt_err_code_t` enums. */
// Stryker disable all: data transcribed from Zephyr's *_mgmt_err_code_t enums and Kconfig names, not logic (TESTING.md)
export const GROUP_ERR: Record<number, Record<number, CodeInfo>> = {
  [GroupId.OS]: table('OS_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['INVALID_FORMAT', 'invalid format string or value', 3],
    ['QUERY_YIELDS_NO_ANSWER', 'the query has no answer on this device', 5],
    ['RTC_NOT_SET', 'the real-time clock has not been set', 5],
    ['RTC_COMMAND_FAILED', 'the real-time clock command failed', 1],
    ['QUERY_RESPONSE_VALUE_NOT_VALID', 'the query response value is not valid', 1],
    ['HEAP_STATS_FETCH_FAILED', 'heap statistics could not be read', 1],
  ]),
  [GroupId.IMAGE]: table('IMG_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['FLASH_CONFIG_QUERY_FAIL', 'flash configuration query failed', 1],
    ['NO_IMAGE', 'no image in the slot', 5],
    ['NO_TLVS', 'the image has no TLV area', 5],
    ['INVALID_TLV', 'the image has an invalid TLV', 1],
    ['TLV_MULTIPLE_HASHES_FOUND', 'the image has several hash TLVs', 1],
    ['TLV_INVALID_SIZE', 'a TLV of the image has an invalid size', 1],
    ['HASH_NOT_FOUND', 'no image with this hash on the device (run `image list` to see the hashes)', 1],
    ['NO_FREE_SLOT', 'no free slot: an image is pending or in use (reset the device, or erase the slot)', 6],
    ['FLASH_OPEN_FAILED', 'flash area could not be opened', 1],
    ['FLASH_READ_FAILED', 'flash read failed', 1],
    ['FLASH_WRITE_FAILED', 'flash write failed', 1],
    ['FLASH_ERASE_FAILED', 'flash erase failed', 1],
    ['INVALID_SLOT', 'invalid slot number', 3],
    ['NO_FREE_MEMORY', 'the device is out of memory', 2],
    ['FLASH_CONTEXT_ALREADY_SET', 'flash context already set', 1],
    ['FLASH_CONTEXT_NOT_SET', 'flash context not set', 1],
    ['FLASH_AREA_DEVICE_NULL', 'flash area device missing', 1],
    ['INVALID_PAGE_OFFSET', 'invalid page offset', 3],
    ['INVALID_OFFSET', 'invalid or missing offset', 3],
    ['INVALID_LENGTH', 'invalid or missing length', 3],
    ['INVALID_IMAGE_HEADER', 'the image header is malformed (first chunk shorter than 32 bytes?)', 3],
    ['INVALID_IMAGE_HEADER_MAGIC', 'not an MCUboot image (bad header magic)', 1],
    ['INVALID_HASH', 'invalid hash: it must be the 32-byte image hash', 3],
    ['INVALID_FLASH_ADDRESS', 'the image load address does not fit the slot', 3],
    ['VERSION_GET_FAILED', 'the running image version could not be read', 1],
    ['CURRENT_VERSION_IS_NEWER', 'the running image is the same or newer than this one', 6],
    ['IMAGE_ALREADY_PENDING', 'another image is already pending; reset the device first', 6],
    ['INVALID_IMAGE_VECTOR_TABLE', 'invalid image vector table', 1],
    ['INVALID_IMAGE_TOO_LARGE', 'the image is too large for the slot', 1],
    ['INVALID_IMAGE_DATA_OVERRUN', 'the data goes past the announced image length', 1],
    ['IMAGE_CONFIRMATION_DENIED', 'confirming this image is not allowed', 1],
    ['IMAGE_SETTING_TEST_TO_ACTIVE_DENIED', 'the running image cannot be marked for test', 1],
    ['ACTIVE_SLOT_NOT_KNOWN', 'the active slot is not known', 1],
  ]),
  [GroupId.STAT]: table('STAT_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['INVALID_GROUP', 'no such statistics group (run `stat list`)', 5],
    ['INVALID_STAT_NAME', 'no such statistics group (run `stat list`)', 5],
    ['INVALID_STAT_SIZE', 'a statistic has an invalid size', 3],
    ['WALK_ABORTED', 'reading the statistics was aborted', 1],
  ]),
  [GroupId.SETTINGS]: table('SETTINGS_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['KEY_TOO_LONG', 'the setting name is too long', 3],
    ['KEY_NOT_FOUND', 'no such setting', 5],
    ['READ_NOT_SUPPORTED', 'this setting cannot be read', 5],
    ['ROOT_KEY_NOT_FOUND', 'no settings handler for this name', 1],
    ['WRITE_NOT_SUPPORTED', 'this setting cannot be written', 1],
    ['DELETE_NOT_SUPPORTED', 'this setting cannot be deleted', 1],
    ['SAVE_NOT_SUPPORTED', 'settings cannot be saved', 1],
  ]),
  [GroupId.FS]: table('FS_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['FILE_INVALID_NAME', 'invalid file name', 3],
    ['FILE_NOT_FOUND', 'no such file on the device', 5],
    ['FILE_IS_DIRECTORY', 'the path is a directory', 1],
    ['FILE_OPEN_FAILED', 'the file could not be opened', 1],
    ['FILE_SEEK_FAILED', 'seek failed', 1],
    ['FILE_READ_FAILED', 'read failed', 1],
    ['FILE_TRUNCATE_FAILED', 'truncate failed', 1],
    ['FILE_DELETE_FAILED', 'delete failed', 1],
    ['FILE_WRITE_FAILED', 'write failed: the file system may be full', 1],
    ['FILE_OFFSET_NOT_VALID', 'the offset does not continue the transfer', 1],
    ['FILE_OFFSET_LARGER_THAN_FILE', 'the offset is past the end of the file', 1],
    ['CHECKSUM_HASH_NOT_FOUND', 'this hash/checksum type is not supported by the device', 3],
    ['MOUNT_POINT_NOT_FOUND', 'no file system is mounted at that path (files live under e.g. /lfs)', 5],
    ['READ_ONLY_FILESYSTEM', 'the file system is read-only', 1],
    ['FILE_EMPTY', 'the file is empty', 1],
    ['FILE_CLOSE_FAILED', 'closing the file failed', 1],
  ]),
  [GroupId.SHELL]: table('SHELL_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['COMMAND_TOO_LONG', 'the command line is too long', 3],
    ['EMPTY_COMMAND', 'empty command', 3],
  ]),
  [GroupId.ENUM]: table('ENUM_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['TOO_MANY_GROUP_ENTRIES', 'too many groups asked for', 3],
    ['INSUFFICIENT_HEAP_FOR_ENTRIES', 'not enough memory for the answer', 1],
    ['INDEX_TOO_LARGE', 'no group at this index', 1],
  ]),
  [GroupId.ZEPHYR_BASIC]: table('ZEPHYRBASIC_MGMT_ERR', [
    ['OK', 'success', 0],
    ['UNKNOWN', 'unknown error', 1],
    ['FLASH_OPEN_FAILED', 'the storage partition could not be opened', 5],
    ['FLASH_CONFIG_QUERY_FAIL', 'flash configuration query failed', 0],
    ['FLASH_ERASE_FAILED', 'erasing the storage partition failed', 0],
  ]),
};
// Stryker restore all

/** The SMP v1 code a Zephyr device sends in place of a group error (1 when the group has no table). */
export function legacyCodeFor(group: number, rc: number): number {
  return GROUP_ERR[group]?.[rc]?.legacy ?? 1;
}

export function mgmtErrName(rc: number): string {
  if (rc >= 256) return `MGMT_ERR_EPERUSER+${rc - 256}`;
  return MGMT_ERR[rc]?.name ?? `MGMT_ERR_${rc}`;
}

export function groupErrName(group: number, rc: number): string {
  return GROUP_ERR[group]?.[rc]?.name ?? `${(GROUP_NAMES[group] ?? `GROUP_${group}`).toUpperCase().replace(' ', '_')}_ERR_${rc}`;
}

/** Hints for SMP-level codes that depend on which command failed. */
// Stryker disable all: data transcribed from Zephyr's *_mgmt_err_code_t enums and Kconfig names, not logic (TESTING.md)
const NOT_SUPPORTED_HINTS: Record<string, string> = {
  '0:2': 'enable CONFIG_MCUMGR_GRP_OS_TASKSTAT in the device build',
  '0:3': 'Zephyr has no memory-pool statistics handler (mpstat comes from Apache Mynewt), so no build option enables it',
  '0:4': 'enable CONFIG_MCUMGR_GRP_OS_DATETIME in the device build',
  '0:6': 'enable CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS in the device build',
  '0:7': 'enable CONFIG_MCUMGR_GRP_OS_INFO in the device build',
  '0:8': 'enable CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO in the device build',
  '2': 'enable CONFIG_MCUMGR_GRP_STAT in the device build',
  '3': 'enable CONFIG_MCUMGR_GRP_SETTINGS in the device build',
  '8': 'enable CONFIG_MCUMGR_GRP_FS in the device build',
  '9': 'enable CONFIG_MCUMGR_GRP_SHELL in the device build',
  '10': 'enable CONFIG_MCUMGR_GRP_ENUM in the device build',
};
// Stryker restore all

/** An error the device reported: an SMP-level `rc`, or (SMP v2) a group error `err: {group, rc}`. */
export class SmpDeviceError extends SmpError {
  override name = 'SmpDeviceError';
  readonly code: string;
  readonly explanation: string;

  constructor(
    /** 'mgmt' for a top-level `rc`, 'group' for an `err` map. */
    readonly kind: 'mgmt' | 'group',
    readonly group: number,
    readonly rc: number,
    /** Group and command of the request, for hints. */
    readonly request?: { group: number; id: number },
    readonly reason?: string,
    /** The whole response, for the extra keys some errors carry (fs upload's `len`). */
    readonly body?: Record<string, unknown>,
  ) {
    const code = kind === 'mgmt' ? mgmtErrName(rc) : groupErrName(group, rc);
    let explanation = (kind === 'mgmt' ? MGMT_ERR[rc]?.message : GROUP_ERR[group]?.[rc]?.message) ?? `device error code ${rc}`;
    if (kind === 'mgmt' && rc === 8 && request) {
      const hint = NOT_SUPPORTED_HINTS[`${request.group}:${request.id}`] ?? NOT_SUPPORTED_HINTS[`${request.group}`];
      if (hint) explanation += `; ${hint}`;
    }
    if (reason) explanation += ` (${reason})`;
    super(`${code} (${rc}): ${explanation}`);
    this.code = code;
    this.explanation = explanation;
  }
}
