/**
 * The freshness metric: how long consumers ran on the old version after AWSCURRENT moved, less
 * any restart window the owners asked the propagation to wait for.
 */

import type { WindowWait } from '../ledger/ledger-port';
import type { Claim } from './workflow-state';

/**
 * Where freshness starts: AWSCURRENT's move, or, when the propagation waited for a restart window
 * (its ledger record keeps the wait whose lease is the longest, i.e. the latest opening), that
 * window's opening: the wait is what the owners asked for, so the metric (and its alarm) measures
 * only the orchestrator's own delay. The wait comes back from Record's own outcome write: no read.
 */
export function freshnessStart(movedAt: string, wait: Pick<WindowWait, 'until'> | undefined): string {
  const opened = wait?.until;
  return opened && Date.parse(opened) > Date.parse(movedAt) ? opened : movedAt;
}

/** Seconds from AWSCURRENT moving to the last consumer verified; alarmed on by RotationAlerts. */
export const FRESHNESS_METRIC = 'PropagationFreshness';

/**
 * A succeeded propagation's freshness: from AWSCURRENT moving (the starting event's time) to now,
 * when every consumer is verified. Unknown (undefined) without the event's time: a reconcile.
 * @example freshnessOf({ movedAt: '2026-12-01T10:00:00Z' }, new Date('2026-12-01T10:04:30Z')) // 270
 */
export function freshnessOf(claim: Pick<Claim, 'movedAt'>, verifiedAt: Date): number | undefined {
  if (!claim.movedAt) return undefined;
  return Math.max(0, Math.round((verifiedAt.getTime() - Date.parse(claim.movedAt)) / 1000));
}
