import { unfinishedPendingVersion } from '../secrets/versions';

/** What to do with a rotation request, given the secret's versions. */
export type RotationRequestPlan =
  /** The requested version already exists: a retried request. Nothing to do again. */
  | { readonly kind: 'already-requested' }
  | { readonly kind: 'rotate' }
  /** An unfinished rotation is in the way and may be cleared: remove its AWSPENDING, then rotate. */
  | { readonly kind: 'repair-then-rotate'; readonly pendingVersionId: string }
  /** A rotation is in progress and may still finish: change nothing. */
  | { readonly kind: 'refuse'; readonly pendingVersionId: string };

export interface RotationRequestFacts {
  readonly versionIdsToStages: Readonly<Record<string, readonly string[]>>;
  /** The version the request would create. */
  readonly versionId: string;
  readonly emergency: boolean;
  /** Age of the unfinished rotation's AWSPENDING version; `undefined` when unknown (counts as stuck). */
  readonly pendingAgeMs: number | undefined;
  readonly stuckAfterMs: number;
}

/**
 * Decides a rotation request. An unfinished rotation (AWSPENDING on a version that is not
 * AWSCURRENT) blocks RotateSecret; it is repaired when the request is an emergency or the pending
 * version is older than `stuckAfterMs`, and otherwise the request is refused.
 * @example planRotationRequest({ versionIdsToStages: { v1: ['AWSCURRENT'] }, versionId: 'v2', ... }) // { kind: 'rotate' }
 */
export function planRotationRequest(facts: RotationRequestFacts): RotationRequestPlan {
  if (Object.hasOwn(facts.versionIdsToStages, facts.versionId)) return { kind: 'already-requested' };
  const pendingVersionId = unfinishedPendingVersion(facts.versionIdsToStages);
  if (!pendingVersionId) return { kind: 'rotate' };
  return facts.emergency || isStuck(facts.pendingAgeMs, facts.stuckAfterMs)
    ? { kind: 'repair-then-rotate', pendingVersionId }
    : { kind: 'refuse', pendingVersionId };
}

/** An unfinished rotation older than the threshold, or of unknown age, is stuck. */
export function isStuck(pendingAgeMs: number | undefined, stuckAfterMs: number): boolean {
  return pendingAgeMs === undefined || pendingAgeMs > stuckAfterMs;
}
