import type { PropagationRecord, RotationRecord, SecretLedgerSummary } from '../shared/ledger/ledger-port';
import { propagationJson, rotationJson } from '../shared/ledger/ledger-record-json';
import { versionWith } from '../shared/secrets/versions';
import type { SweepDecision } from '../shared/sweep/plan-sweep';
import { type Column, renderTable } from './table';
import { formatTime, NONE, shortActor, shortVersion } from './time-format';
import { propagationOutcome, windowWaitJson } from './window-wait-text';

/**
 * OVERDUE and STUCK are the sweep's judgements; ROTATING is an unfinished rotation younger than the
 * stuck threshold; NOT-PROPAGATED means the ledger has no successful propagation of AWSCURRENT.
 */
export type StatusFlag = 'OVERDUE' | 'STUCK' | 'ROTATING' | 'NOT-PROPAGATED';

/** Flags that make `status` exit with 2. */
export const GATING_FLAGS: ReadonlySet<StatusFlag> = new Set(['OVERDUE', 'STUCK']);

export interface StatusRow {
  readonly name: string;
  readonly arn: string;
  readonly ageDays: number;
  readonly lastRotatedAt?: Date;
  readonly nextRotationDueAt?: Date;
  readonly rotationEnabled: boolean;
  readonly currentVersionId?: string;
  readonly pendingVersionId?: string;
  readonly lastRotation?: RotationRecord;
  readonly lastPropagation?: PropagationRecord;
  readonly flags: readonly StatusFlag[];
}

export interface StatusRowInput {
  /** planSweep's decisions: age, overdue, unfinished rotations. */
  readonly decisions: readonly SweepDecision[];
  /** Ledger summaries by secret name; undefined when no ledger is configured (no NOT-PROPAGATED). */
  readonly ledger: ReadonlyMap<string, SecretLedgerSummary> | undefined;
  /** Secrets whose unfinished rotation the sweep's rule judges stuck (the others are in progress). */
  readonly stuck: ReadonlySet<string>;
}

/** One row per managed secret, sorted by name, from data already fetched (no calls). */
export function statusRows(input: StatusRowInput): StatusRow[] {
  return input.decisions
    .map((decision): StatusRow => {
      const { secret } = decision;
      const summary = input.ledger?.get(secret.name);
      const currentVersionId = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
      const pendingVersionId =
        decision.action.kind === 'check-pending' ? decision.action.pendingVersionId : undefined;
      const flags: StatusFlag[] = [];
      if (decision.overdue) flags.push('OVERDUE');
      if (pendingVersionId) flags.push(input.stuck.has(secret.name) ? 'STUCK' : 'ROTATING');
      if (input.ledger && !propagated(summary?.lastPropagation, currentVersionId)) {
        flags.push('NOT-PROPAGATED');
      }
      return {
        name: secret.name,
        arn: secret.arn,
        ageDays: Math.floor(decision.ageDays),
        lastRotatedAt: secret.lastRotatedDate,
        nextRotationDueAt: secret.nextRotationDate,
        rotationEnabled: secret.rotationEnabled,
        currentVersionId,
        pendingVersionId,
        lastRotation: summary?.lastRotation,
        lastPropagation: summary?.lastPropagation,
        flags,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function propagated(last: PropagationRecord | undefined, currentVersionId: string | undefined): boolean {
  return last !== undefined && last.versionId === currentVersionId && last.status === 'succeeded';
}

/** True when `status` should exit with 2. */
export function needsAttention(rows: readonly StatusRow[]): boolean {
  return rows.some((row) => row.flags.some((flag) => GATING_FLAGS.has(flag)));
}

const COLUMNS: readonly Column[] = [
  { header: 'SECRET', shrinkable: true },
  { header: 'AGE', align: 'right' },
  { header: 'LAST ROTATED' },
  { header: 'NEXT DUE' },
  { header: 'LAST ROTATION', shrinkable: true },
  { header: 'LAST PROPAGATION', shrinkable: true },
  { header: 'FLAGS' },
];

/**
 * The status table, at most `width` characters wide where columns can be cut; a restart-window wait
 * reads as waiting only while its end is after `now`.
 */
export function renderStatusTable(rows: readonly StatusRow[], width?: number, now = new Date()): string {
  if (rows.length === 0) return 'no managed secrets found';
  return renderTable(
    COLUMNS,
    rows.map((row) => [
      row.name,
      `${row.ageDays}d`,
      formatTime(row.lastRotatedAt),
      row.rotationEnabled ? formatTime(row.nextRotationDueAt) : 'off',
      row.lastRotation
        ? `${row.lastRotation.trigger} by ${shortActor(row.lastRotation.actor)} ${formatTime(row.lastRotation.requestedAt)}`
        : NONE,
      row.lastPropagation
        ? `${shortVersion(row.lastPropagation.versionId)} ${propagationOutcome(row.lastPropagation, now)} ${formatTime(
            row.lastPropagation.finishedAt ?? row.lastPropagation.startedAt,
          )}`
        : NONE,
      row.flags.join(' ') || 'ok',
    ]),
    width,
  );
}

/** The `--json` shape: stable keys, ISO times, null for absent values. */
export function statusJson(rows: readonly StatusRow[]) {
  return rows.map((row) => ({
    name: row.name,
    arn: row.arn,
    ageDays: row.ageDays,
    lastRotatedAt: row.lastRotatedAt?.toISOString() ?? null,
    nextRotationDueAt: row.nextRotationDueAt?.toISOString() ?? null,
    rotationEnabled: row.rotationEnabled,
    currentVersionId: row.currentVersionId ?? null,
    pendingVersionId: row.pendingVersionId ?? null,
    lastRotation: row.lastRotation ? rotationJson(row.lastRotation, { reason: true }) : null,
    lastPropagation: row.lastPropagation
      ? { ...propagationJson(row.lastPropagation), windowWait: windowWaitJson(row.lastPropagation) }
      : null,
    flags: [...row.flags],
  }));
}
