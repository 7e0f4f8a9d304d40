import type { PropagationRecord, RotationRecord } from './ledger-port';

/**
 * The last rotation as `rotator status --json` and `rotator report --format json` give it: stable
 * keys in a stable order (scripts read them), null for absent values. The rotation's `reason` only
 * where the command shows it (status), in its place between `actor` and `requestedAt`.
 * @example rotationJson(record, { reason: true }) // { versionId, trigger, actor, reason, requestedAt }
 */
export function rotationJson(record: RotationRecord, options: { readonly reason?: boolean } = {}) {
  return {
    versionId: record.versionId,
    trigger: record.trigger,
    actor: record.actor,
    ...(options.reason ? { reason: record.reason ?? null } : {}),
    requestedAt: record.requestedAt,
  };
}

/**
 * The last propagation in the same two outputs: which version, how it stands, when. A command that
 * shows more (status: the restart-window wait) adds its keys after these.
 */
export function propagationJson(record: PropagationRecord) {
  return {
    versionId: record.versionId,
    status: record.status,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
  };
}
