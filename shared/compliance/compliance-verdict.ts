import type { MoveRecord, PropagationRecord } from '../ledger/ledger-port';
import { type MaxAgePolicy, type MaxAgeRules, maxAgePolicyFor } from './max-age-policy';

const DAY_MS = 86_400_000;

/**
 * What the report finds about one secret, worst first. The gating ones break policy and make
 * `rotator report` exit non-zero; `rotating` and `propagating` are work in progress.
 * - invalid-policy: its `rotator:max-age-days` tag cannot be read
 * - rotation-failed: a rotation left AWSPENDING behind for longer than the sweep's stuck threshold
 * - propagation-failed: the ledger's propagation of the AWSCURRENT version failed
 * - overdue: AWSCURRENT is older than the secret's maximum age (rotation on or off)
 * - schedule-missed: rotation is on and past its schedule plus the sweep's grace (status's OVERDUE)
 * - never-propagated: AWSCURRENT moved but no propagation of it is in the ledger
 */
export const FINDINGS = [
  'invalid-policy',
  'rotation-failed',
  'propagation-failed',
  'overdue',
  'schedule-missed',
  'never-propagated',
  'rotating',
  'propagating',
] as const;
export type Finding = (typeof FINDINGS)[number];
export type Verdict = Finding | 'ok';

/** Findings that break policy unless the caller allows them (`--allow`). */
export const GATING_FINDINGS: ReadonlySet<Finding> = new Set([
  'invalid-policy',
  'rotation-failed',
  'propagation-failed',
  'overdue',
  'schedule-missed',
  'never-propagated',
]);

/** What is known about one secret, already fetched: ListSecrets, the sweep's rules, the ledger. */
export interface ComplianceFacts {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt?: Date;
  readonly lastRotatedAt?: Date;
  readonly currentVersionId?: string;
  /** When the AWSCURRENT version was created (ListSecretVersionIds' CreatedDate): its value's age. */
  readonly currentCreatedAt?: Date;
  /** The sweep's judgements, as `status` shows them. */
  readonly scheduleMissed: boolean;
  readonly pending?: 'rotating' | 'stuck';
  /** Undefined when no ledger is configured: propagation is then not judged. */
  readonly ledger?: {
    readonly lastPropagation?: PropagationRecord;
    readonly currentMove?: MoveRecord;
  };
}

export interface ComplianceJudgement {
  /** When AWSCURRENT was set, as far as is known (see {@link currentSince}). */
  readonly since?: Date;
  readonly ageMs?: number;
  readonly policy: MaxAgePolicy;
  readonly findings: readonly Finding[];
  /** The worst finding, or ok. */
  readonly verdict: Verdict;
}

/**
 * Judges one secret against its maximum age and the ledger. Pure: no calls.
 * @example judgeCompliance(facts, { rules: [{ prefix: 'prod/', days: 90 }] }, new Date())
 */
export function judgeCompliance(facts: ComplianceFacts, rules: MaxAgeRules, now: Date): ComplianceJudgement {
  const policy = maxAgePolicyFor(facts.name, facts.tags, rules);
  const since = currentSince(facts);
  const ageMs = since ? Math.max(0, now.getTime() - since.getTime()) : undefined;
  const found = new Set<Finding>();
  if (policy.source === 'invalid-tag') found.add('invalid-policy');
  if (facts.pending) found.add(facts.pending === 'stuck' ? 'rotation-failed' : 'rotating');
  if ('days' in policy && ageMs !== undefined && ageMs > policy.days * DAY_MS) found.add('overdue');
  if (facts.scheduleMissed) found.add('schedule-missed');
  const propagation = propagationFinding(facts);
  if (propagation) found.add(propagation);
  const findings = FINDINGS.filter((f) => found.has(f));
  return { since, ageMs, policy, findings, verdict: findings[0] ?? 'ok' };
}

/**
 * How old the AWSCURRENT value is: its version's creation (a rotation's new version, or a value put
 * by hand), so a version made current again by a rollback keeps its own age. Without that date, the
 * last rotation, else the secret's creation. Never a move of the staging label: moving AWSCURRENT
 * back to an older version does not make its credential younger (the move only matters to when
 * consumers must have converged, which `rotator audit` judges).
 */
export function currentSince(facts: ComplianceFacts): Date | undefined {
  return facts.currentCreatedAt ?? facts.lastRotatedAt ?? facts.createdAt;
}

function propagationFinding(facts: ComplianceFacts): Finding | undefined {
  const { ledger } = facts;
  if (!ledger) return undefined;
  const last = ledger.lastPropagation;
  if (last && last.versionId === facts.currentVersionId) {
    if (last.status === 'failed') return 'propagation-failed';
    return last.status === 'in-progress' ? 'propagating' : undefined;
  }
  // Never moved (its first version, read by ESO when the ExternalSecret was made): nothing to carry.
  // A rotation under way has not moved AWSCURRENT yet: only a move the ledger knows counts then.
  const moved =
    last !== undefined ||
    ledger.currentMove !== undefined ||
    (facts.lastRotatedAt !== undefined && facts.pending === undefined);
  return moved ? 'never-propagated' : undefined;
}

/** Whether any judgement breaks policy, leaving out the findings the caller allows. */
export function breaksPolicy(
  judgements: readonly Pick<ComplianceJudgement, 'findings'>[],
  allowed: ReadonlySet<Finding> = new Set(),
): boolean {
  return judgements.some((j) => j.findings.some((f) => GATING_FINDINGS.has(f) && !allowed.has(f)));
}
