import { EmergencyCooldownError } from '../errors';
import type { LedgerEntry, LedgerPort } from '../ledger/ledger-port';

/** Whether an emergency rotation may start now, judged from the secret's newest ledger entries. */
export type EmergencyCooldownDecision =
  | { readonly kind: 'allowed' }
  /** An emergency rotation was requested inside the window: refuse until `nextAllowedAt`. */
  | { readonly kind: 'cooling'; readonly lastVersionId: string; readonly nextAllowedAt: Date }
  /**
   * Every entry read is inside the window and none is an emergency, but older ones were not read:
   * read more. `nextAllowedAt` bounds the cooldown of any emergency among them (fail-closed answer).
   */
  | { readonly kind: 'read-further'; readonly nextAllowedAt: Date };

export interface EmergencyCooldownFacts {
  /** The secret's newest ledger entries (`LedgerPort.history`), newest first. */
  readonly entries: readonly LedgerEntry[];
  /** True when `entries` is the secret's whole history (fewer came back than were asked for). */
  readonly complete: boolean;
  /** The version this request would create: its own record (a retry) never cools it down. */
  readonly versionId: string;
  readonly now: Date;
  /** 0 disables the cooldown. */
  readonly cooldownMs: number;
}

/**
 * Decides the per-secret emergency cooldown: refused while an emergency rotation of the secret was
 * requested less than `cooldownMs` before `now`, judged from the ledger's rotation records (their
 * `emergency` flag and `requestedAt`), never from the summary, which keeps only the newest rotation.
 * The request's own version is skipped, so a retried request is never refused by its first attempt.
 * @example decideEmergencyCooldown({ entries: await ledger.history(name, { limit: 20 }), complete, versionId, now, cooldownMs: 900_000 })
 */
export function decideEmergencyCooldown(facts: EmergencyCooldownFacts): EmergencyCooldownDecision {
  if (facts.cooldownMs <= 0) return { kind: 'allowed' };
  const windowStart = facts.now.getTime() - facts.cooldownMs;
  const inWindow = facts.entries.filter((entry) => timeOf(entry) > windowStart);
  const emergencies = inWindow.flatMap((entry) =>
    entry.kind === 'rotation' && entry.emergency === true && entry.versionId !== facts.versionId
      ? [entry]
      : [],
  );
  const newest = emergencies.reduce<(typeof emergencies)[number] | undefined>(
    (best, entry) => (best && timeOf(best) >= timeOf(entry) ? best : entry),
    undefined,
  );
  if (newest) {
    return {
      kind: 'cooling',
      lastVersionId: newest.versionId,
      nextAllowedAt: new Date(timeOf(newest) + facts.cooldownMs),
    };
  }
  // Entries are newest first: one outside the window means the whole window was read.
  if (facts.complete || inWindow.length === 0 || inWindow.length < facts.entries.length) {
    return { kind: 'allowed' };
  }
  const oldestRead = Math.min(...inWindow.map(timeOf));
  return { kind: 'read-further', nextAllowedAt: new Date(oldestRead + facts.cooldownMs) };
}

/** When an entry happened: a rotation's request, a propagation's start (the history index's order). */
function timeOf(entry: LedgerEntry): number {
  return Date.parse(entry.kind === 'rotation' ? entry.requestedAt : entry.startedAt);
}

/** History pages read for the decision: almost always the first settles it; the second is the cap. */
const HISTORY_LIMITS = [20, 200] as const;

/**
 * Refuses an emergency request inside the secret's cooldown with {@link EmergencyCooldownError},
 * reading the ledger's history (newest first) until the window is covered. Past the last page it
 * fails closed: more than 200 entries in one window is a flood, not an emergency. Reads only.
 *
 * Race: this is a read, not a lock. Two emergency requests for one secret that both read the
 * history before either records its rotation both pass. The ledger's conditional rotation record
 * does not stop the second (it is keyed by version, and the two have different versions), nor does
 * our in-progress check (an emergency repairs an unfinished rotation instead of refusing it).
 * Secrets Manager does: the second RotateSecret finds AWSPENDING on the first's version and fails
 * ("a previous rotation request is still in progress"; the second's repair, if any, only touched
 * the version both saw pending), so one rotation runs and the second request fails after writing
 * its ledger record (a request without a rotation). Only if the first rotation finished within the
 * milliseconds between the second's read and its RotateSecret would both run. Reserved concurrency
 * bounds how many can race at once.
 */
export async function assertEmergencyAllowed(
  ledger: Pick<LedgerPort, 'history'>,
  request: Omit<EmergencyCooldownFacts, 'entries' | 'complete'> & { readonly secretName: string },
): Promise<void> {
  if (request.cooldownMs <= 0) return;
  let decision: EmergencyCooldownDecision = { kind: 'allowed' };
  for (const limit of HISTORY_LIMITS) {
    const entries = await ledger.history(request.secretName, { limit });
    decision = decideEmergencyCooldown({ ...request, entries, complete: entries.length < limit });
    if (decision.kind !== 'read-further') break;
  }
  if (decision.kind === 'allowed') return;
  throw new EmergencyCooldownError(
    request.secretName,
    decision.nextAllowedAt,
    decision.kind === 'cooling' ? decision.lastVersionId : undefined,
  );
}
