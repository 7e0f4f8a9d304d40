import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import { breaksPolicy, type Finding } from '../shared/compliance/compliance-verdict';
import type { MaxAgeRules } from '../shared/compliance/max-age-policy';
import {
  ageDays,
  policyText,
  type ReportRow,
  reportCsv,
  reportJson,
  reportRows,
} from '../shared/compliance/report-rows';
import { mapWithLimit } from '../shared/concurrency';
import { versionWith } from '../shared/secrets/versions';
import type { SweepDecision } from '../shared/sweep/plan-sweep';
import { type CliContext, tableWidth, writeLine } from './cli-context';
import { EXIT, type ExitCode } from './exit-codes';
import { readManagedSecrets } from './status-command';
import { type Column, renderTable } from './table';
import { formatTime, NONE, shortVersion } from './time-format';

export type ReportFormat = 'table' | 'json' | 'csv';

export interface ReportOptions {
  readonly format: ReportFormat;
  readonly rules: MaxAgeRules;
  /** Findings that do not break policy in this run (e.g. never-propagated without clusters). */
  readonly allow: ReadonlySet<Finding>;
}

/**
 * `rotator report`: every managed secret with its age, maximum-age policy, last rotation, last
 * propagation and verdict, from ListSecrets, the sweep's rules, the ledger and one
 * ListSecretVersionIds per secret (its AWSCURRENT version's creation, which a rollback does not
 * reset). No value is read. Exit 2 when any secret breaks policy, so it can gate CI.
 */
export async function runReport(ctx: CliContext, options: ReportOptions): Promise<ExitCode> {
  const snapshot = await readManagedSecrets(ctx);
  const currentCreatedAt = await currentVersionCreation(ctx, snapshot.decisions);
  const rows = reportRows({ ...snapshot, currentCreatedAt, rules: options.rules, now: ctx.now() });
  if (options.format === 'json') writeLine(ctx.io.stdout, JSON.stringify(reportJson(rows), null, 2));
  else if (options.format === 'csv') ctx.io.stdout.write(`${reportCsv(rows)}\r\n`);
  else writeLine(ctx.io.stdout, renderReportTable(rows, tableWidth(ctx)));
  const broken = breaksPolicy(rows, options.allow);
  if (options.format === 'table' && rows.length > 0) {
    const count = rows.filter((r) => r.verdict !== 'ok').length;
    writeLine(
      ctx.io.stderr,
      `${rows.length} secret(s), ${count} with findings; ${broken ? 'policy broken' : 'policy met'}`,
    );
  }
  return broken ? EXIT.attention : EXIT.ok;
}

/** ListSecretVersionIds calls in flight at once: a few, to keep a large fleet quick without bursts. */
const VERSION_READS_IN_FLIGHT = 5;

/** Each secret's AWSCURRENT version creation date, by name (ListSecretVersionIds; no value). */
async function currentVersionCreation(
  ctx: CliContext,
  decisions: readonly SweepDecision[],
): Promise<ReadonlyMap<string, Date>> {
  const secrets = new SecretsManagerAdapter(ctx.services.secretsManager);
  const created = new Map<string, Date>();
  await mapWithLimit(decisions, VERSION_READS_IN_FLIGHT, async ({ secret }) => {
    const current = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
    const at = current ? await secrets.versionCreatedAt(secret.arn, current) : undefined;
    if (at) created.set(secret.name, at);
  });
  return created;
}

const COLUMNS: readonly Column[] = [
  { header: 'SECRET', shrinkable: true },
  { header: 'AGE', align: 'right' },
  { header: 'MAX AGE', shrinkable: true },
  { header: 'LAST ROTATED' },
  { header: 'LAST PROPAGATION', shrinkable: true },
  { header: 'VERDICT' },
];

/** The report table, at most `width` characters wide where columns can be cut. */
export function renderReportTable(rows: readonly ReportRow[], width?: number): string {
  if (rows.length === 0) return 'no managed secrets found';
  return renderTable(
    COLUMNS,
    rows.map((row) => {
      const age = ageDays(row);
      return [
        row.name,
        age === undefined ? NONE : `${age}d`,
        policyText(row),
        formatTime(row.lastRotatedAt),
        row.lastPropagation
          ? `${shortVersion(row.lastPropagation.versionId)} ${row.lastPropagation.status} ${formatTime(
              row.lastPropagation.finishedAt ?? row.lastPropagation.startedAt,
            )}`
          : NONE,
        row.findings.join(' ') || 'ok',
      ];
    }),
    width,
  );
}
