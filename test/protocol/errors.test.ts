/** Device error codes as users read them: names, explanations, hints, and the SMP v1 translations. */
import { describe, expect, it } from 'vitest';
import {
  groupErrName,
  legacyCodeFor,
  mgmtErrName,
  SmpAbortError,
  SmpCborError,
  SmpDeviceError,
  SmpError,
  SmpFrameError,
  SmpShapeError,
  SmpTimeoutError,
} from '../../src/protocol/errors.js';

describe('error names', () => {
  it('every error class says what it is, and is an SmpError', () => {
    for (const Class of [SmpError, SmpFrameError, SmpCborError, SmpShapeError, SmpTimeoutError, SmpAbortError]) {
      const err = new Class('what happened');
      expect(String(err)).toBe(`${Class.name}: what happened`);
      expect(err).toBeInstanceOf(SmpError);
    }
    expect(new SmpDeviceError('mgmt', 0, 1).name).toBe('SmpDeviceError');
  });

  it('names SMP codes, per-user codes from 256, and unknown codes', () => {
    expect(mgmtErrName(8)).toBe('MGMT_ERR_ENOTSUP');
    expect(mgmtErrName(255)).toBe('MGMT_ERR_255');
    expect(mgmtErrName(256)).toBe('MGMT_ERR_EPERUSER+0');
    expect(mgmtErrName(260)).toBe('MGMT_ERR_EPERUSER+4');
  });

  it('names group codes, and unknown ones after their group', () => {
    expect(groupErrName(8, 11)).toBe('FS_MGMT_ERR_FILE_OFFSET_NOT_VALID');
    expect(groupErrName(0, 99)).toBe('OS_ERR_99');
    expect(groupErrName(63, 99)).toBe('ZEPHYR_BASIC_ERR_99');
    expect(groupErrName(4, 1)).toBe('LOG_ERR_1');
    expect(groupErrName(77, 2)).toBe('GROUP_77_ERR_2');
  });

  it('translates group codes to the SMP v1 code Zephyr sends, 1 where it has none', () => {
    expect(legacyCodeFor(1, 9)).toBe(6); // NO_FREE_SLOT → EBADSTATE
    expect(legacyCodeFor(8, 3)).toBe(5); // FILE_NOT_FOUND → ENOENT
    expect(legacyCodeFor(1, 99)).toBe(1);
    expect(legacyCodeFor(77, 3)).toBe(1);
  });
});

describe('SmpDeviceError', () => {
  it('explains an SMP code, with the build option to enable for a command the device lacks', () => {
    const err = new SmpDeviceError('mgmt', 0, 8, { group: 0, id: 2 });
    expect(err.message).toBe(
      'MGMT_ERR_ENOTSUP (8): the command is not supported by the device (not enabled in its build); enable CONFIG_MCUMGR_GRP_OS_TASKSTAT in the device build',
    );
    // The group's hint when the command has none of its own.
    expect(new SmpDeviceError('mgmt', 2, 8, { group: 2, id: 1 }).explanation).toMatch(/; enable CONFIG_MCUMGR_GRP_STAT in/);
    // No hint without a request, for another code, or for a command of a group without hints.
    expect(new SmpDeviceError('mgmt', 0, 8).explanation).toBe('the command is not supported by the device (not enabled in its build)');
    expect(new SmpDeviceError('mgmt', 0, 3, { group: 0, id: 2 }).explanation).not.toMatch(/CONFIG_/);
    expect(new SmpDeviceError('mgmt', 0, 8, { group: 0, id: 99 }).explanation).not.toMatch(/CONFIG_/);
  });

  it('explains a group code by its group, never with an SMP code hint', () => {
    const err = new SmpDeviceError('group', 1, 8, { group: 1, id: 0 });
    expect(err.code).toBe('IMG_MGMT_ERR_HASH_NOT_FOUND');
    expect(err.message).toBe('IMG_MGMT_ERR_HASH_NOT_FOUND (8): no image with this hash on the device (run `image list` to see the hashes)');
  });

  it("falls back to the number for unknown codes, and adds the device's reason", () => {
    expect(new SmpDeviceError('mgmt', 0, 300).message).toBe('MGMT_ERR_EPERUSER+44 (300): device error code 300');
    expect(new SmpDeviceError('group', 77, 5).message).toBe('GROUP_77_ERR_5 (5): device error code 5');
    expect(new SmpDeviceError('mgmt', 0, 3, undefined, 'bad offset').message).toBe(
      'MGMT_ERR_EINVAL (3): invalid request: a field is missing or has the wrong type (bad offset)',
    );
  });
});
