/** Thrown by a handler: an SMP-level error, answered `{"rc": rc}` in both protocol versions. */
export class MgmtError extends Error {
  override name = 'MgmtError';
  constructor(
    readonly rc: number,
    reason?: string,
  ) {
    super(reason ?? `MGMT_ERR ${rc}`);
  }
}

/**
 * Thrown by a handler: a group error. SMP v2 requests get `{"err": {"group", "rc"}, ...extra}`,
 * SMP v1 requests the translated `{"rc": legacyCodeFor(group, rc)}` (or `legacy` when given).
 */
export class GroupError extends Error {
  override name = 'GroupError';
  constructor(
    readonly group: number,
    readonly rc: number,
    readonly extra?: Record<string, unknown>,
    readonly legacy?: number,
  ) {
    super(`group ${group} error ${rc}`);
  }
}
