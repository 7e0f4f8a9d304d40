import type { PropagationRecord, RotationRecord, SecretLedgerSummary } from '../ledger/ledger-port';
import { propagationJson, rotationJson } from '../ledger/ledger-record-json';
import { versionWith } from '../secrets/versions';
import type { SweepDecision } from '../sweep/plan-sweep';
import { type ComplianceJudgement, judgeCompliance } from './compliance-verdict';
import type { MaxAgeRules } from './max-age-policy';

const DAY_MS = 86_400_000;

/** One managed secret in `rotator report`: names, dates, versions and verdicts, never a value. */
export interface ReportRow extends ComplianceJudgement {
  readonly name: string;
  readonly arn: string;
  readonly rotationEnabled: boolean;
  readonly currentVersionId?: string;
  readonly lastRotatedAt?: Date;
  readonly lastRotation?: RotationRecord;
  readonly lastPropagation?: PropagationRecord;
}

export interface ReportInput {
  readonly decisions: readonly SweepDecision[];
  readonly summaries: ReadonlyMap<string, SecretLedgerSummary> | undefined;
  readonly stuck: ReadonlySet<string>;
  /** Each secret's AWSCURRENT version creation (ListSecretVersionIds), by name; absent when unknown. */
  readonly currentCreatedAt?: ReadonlyMap<string, Date>;
  readonly rules: MaxAgeRules;
  readonly now: Date;
}

/** One row per managed secret, sorted by name, from data already fetched (no calls). */
export function reportRows(input: ReportInput): ReportRow[] {
  return input.decisions
    .map((decision): ReportRow => {
      const { secret } = decision;
      const summary = input.summaries?.get(secret.name);
      const currentVersionId = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
      const pending =
        decision.action.kind !== 'check-pending'
          ? undefined
          : input.stuck.has(secret.name)
            ? 'stuck'
            : 'rotating';
      const judgement = judgeCompliance(
        {
          name: secret.name,
          tags: secret.tags,
          createdAt: secret.createdDate,
          lastRotatedAt: secret.lastRotatedDate,
          currentVersionId,
          currentCreatedAt: input.currentCreatedAt?.get(secret.name),
          scheduleMissed: decision.overdue,
          pending,
          ledger: input.summaries
            ? { lastPropagation: summary?.lastPropagation, currentMove: summary?.currentMove }
            : undefined,
        },
        input.rules,
        input.now,
      );
      return {
        ...judgement,
        name: secret.name,
        arn: secret.arn,
        rotationEnabled: secret.rotationEnabled,
        currentVersionId,
        lastRotatedAt: secret.lastRotatedDate,
        lastRotation: summary?.lastRotation,
        lastPropagation: summary?.lastPropagation,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Whole days of an age, or undefined. */
export function ageDays(row: Pick<ReportRow, 'ageMs'>): number | undefined {
  return row.ageMs === undefined ? undefined : Math.floor(row.ageMs / DAY_MS);
}

/** The policy in words: `90d (tag)`, `30d (prefix prod/)`, `365d (default)`, `none`, `invalid tag`. */
export function policyText(row: Pick<ReportRow, 'policy'>): string {
  const { policy } = row;
  switch (policy.source) {
    case 'tag':
      return `${policy.days}d (tag)`;
    case 'prefix':
      return `${policy.days}d (prefix ${policy.prefix})`;
    case 'default':
      return `${policy.days}d (default)`;
    case 'none':
      return 'none';
    case 'invalid-tag':
      return 'invalid tag';
  }
}

/** The `--format json` shape: stable keys, ISO times, null for absent values. */
export function reportJson(rows: readonly ReportRow[]) {
  return rows.map((row) => ({
    name: row.name,
    arn: row.arn,
    currentVersionId: row.currentVersionId ?? null,
    currentSince: row.since?.toISOString() ?? null,
    ageDays: ageDays(row) ?? null,
    rotationEnabled: row.rotationEnabled,
    policy: {
      maxAgeDays: 'days' in row.policy ? row.policy.days : null,
      source: row.policy.source,
      prefix: row.policy.source === 'prefix' ? row.policy.prefix : null,
      error: row.policy.source === 'invalid-tag' ? row.policy.error : null,
    },
    lastRotatedAt: row.lastRotatedAt?.toISOString() ?? null,
    lastRotation: row.lastRotation ? rotationJson(row.lastRotation) : null,
    lastPropagation: row.lastPropagation ? propagationJson(row.lastPropagation) : null,
    verdict: row.verdict,
    findings: [...row.findings],
  }));
}

const CSV_HEADER = [
  'name',
  'current_version_id',
  'current_since',
  'age_days',
  'rotation_enabled',
  'max_age_days',
  'policy_source',
  'last_rotated_at',
  'last_propagation_version_id',
  'last_propagation_status',
  'last_propagation_finished_at',
  'verdict',
  'findings',
];

/**
 * RFC 4180 CSV with a header row, CRLF line ends; a field that a spreadsheet would run as a
 * formula (starting with = + - @) gets a leading apostrophe.
 */
export function reportCsv(rows: readonly ReportRow[]): string {
  const lines = rows.map((row) => [
    row.name,
    row.currentVersionId ?? '',
    row.since?.toISOString() ?? '',
    String(ageDays(row) ?? ''),
    String(row.rotationEnabled),
    'days' in row.policy ? String(row.policy.days) : '',
    row.policy.source === 'prefix' ? `prefix ${row.policy.prefix}` : row.policy.source,
    row.lastRotatedAt?.toISOString() ?? '',
    row.lastPropagation?.versionId ?? '',
    row.lastPropagation?.status ?? '',
    row.lastPropagation?.finishedAt ?? '',
    row.verdict,
    row.findings.join(' '),
  ]);
  return [CSV_HEADER, ...lines].map((fields) => fields.map(csvField).join(',')).join('\r\n');
}

function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
