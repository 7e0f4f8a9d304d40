import type { LedgerEntry } from '../shared/ledger/ledger-port';
import { assertManaged } from '../shared/managed-prefixes';
import { type CliContext, requireLedger, tableWidth, writeLine } from './cli-context';
import { EXIT, type ExitCode } from './exit-codes';
import { type Column, renderTable } from './table';
import { formatDuration, formatTime, NONE, shortActor, shortVersion } from './time-format';
import { propagationOutcome, windowWaitJson } from './window-wait-text';

/** One ledger entry as the CLI shows it. */
export interface HistoryRow {
  readonly at: string;
  readonly kind: LedgerEntry['kind'];
  readonly versionId: string;
  /** For a propagation: which AWSCURRENT move of the secret it carried, and from which version. */
  readonly move: { readonly seq: number; readonly fromVersionId: string | null } | null;
  readonly trigger: string;
  readonly actor: string;
  readonly reason: string | null;
  /** A propagation's ledger status (`succeeded`, `failed`, `in-progress`); a rotation's request. */
  readonly outcome: string;
  readonly durationMs: number | null;
  readonly clusters: number | null;
  readonly restarted: number | null;
  readonly error: string | null;
  /** For a propagation that waited for a restart window: the latest wait noted. */
  readonly windowWait: ReturnType<typeof windowWaitJson>;
}

/** Ledger entries (already newest first) in the CLI's shape. */
export function historyRows(entries: readonly LedgerEntry[]): HistoryRow[] {
  return entries.map((entry): HistoryRow => {
    const common = {
      kind: entry.kind,
      versionId: entry.versionId,
      trigger: entry.trigger,
      actor: entry.actor,
      reason: entry.reason ?? null,
    };
    if (entry.kind === 'rotation') {
      return {
        ...common,
        move: null,
        at: entry.requestedAt,
        outcome: entry.repairedPendingVersionId
          ? `requested (repaired ${shortVersion(entry.repairedPendingVersionId)})`
          : 'requested',
        durationMs: null,
        clusters: null,
        restarted: null,
        error: null,
        windowWait: null,
      };
    }
    return {
      ...common,
      move: { seq: entry.moveSeq ?? 1, fromVersionId: entry.fromVersionId ?? null },
      at: entry.startedAt,
      outcome: entry.status,
      durationMs: entry.durationMs ?? null,
      clusters: entry.clusters?.length ?? null,
      // The lists are capped; the counts are whole.
      restarted:
        entry.clusters?.reduce((sum, c) => sum + (c.counts?.restarted ?? c.restarted.length), 0) ?? null,
      error: entry.error ?? null,
      windowWait: windowWaitJson(entry),
    };
  });
}

const COLUMNS: readonly Column[] = [
  { header: 'TIME' },
  { header: 'KIND' },
  { header: 'VERSION' },
  { header: 'TRIGGER' },
  { header: 'ACTOR', shrinkable: true },
  { header: 'REASON', shrinkable: true },
  { header: 'OUTCOME', shrinkable: true },
  { header: 'DURATION', align: 'right' },
  { header: 'CLUSTERS', align: 'right' },
  { header: 'RESTARTED', align: 'right' },
];

/** The history table; a restart-window wait reads as waiting only while its end is after `now`. */
export function renderHistoryTable(rows: readonly HistoryRow[], width?: number, now = new Date()): string {
  const count = (n: number | null) => (n === null ? NONE : String(n));
  return renderTable(
    COLUMNS,
    rows.map((row) => [
      formatTime(row.at),
      row.kind,
      row.move && row.move.seq > 1
        ? `${shortVersion(row.versionId)} #${row.move.seq}`
        : shortVersion(row.versionId),
      row.trigger,
      shortActor(row.actor),
      row.reason ?? NONE,
      outcomeText(row, now),
      row.durationMs === null ? NONE : formatDuration(row.durationMs),
      count(row.clusters),
      count(row.restarted),
    ]),
    width,
  );
}

function outcomeText(row: HistoryRow, now: Date): string {
  const text =
    row.kind === 'propagation'
      ? propagationOutcome({ status: row.outcome, windowWait: row.windowWait }, now)
      : row.outcome;
  return row.error ? `${text}: ${row.error}` : text;
}

/** `rotator history <secret>`: the ledger's entries for one managed secret, newest first. */
export async function runHistory(ctx: CliContext, secretName: string, limit: number): Promise<ExitCode> {
  assertManaged(secretName, ctx.prefixes);
  const rows = historyRows(await requireLedger(ctx).history(secretName, { limit }));
  if (ctx.options.json) writeLine(ctx.io.stdout, JSON.stringify(rows, null, 2));
  else if (rows.length === 0) writeLine(ctx.io.stdout, `no ledger entries for ${secretName}`);
  else writeLine(ctx.io.stdout, renderHistoryTable(rows, tableWidth(ctx), ctx.now()));
  return EXIT.ok;
}
