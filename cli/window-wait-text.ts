import type { PropagationRecord } from '../shared/ledger/ledger-port';
import { formatTime } from './time-format';

/**
 * How the `status` and `history` tables show a propagation's outcome when it waited for a restart
 * window: `waiting-for-window until <time> (<n> held in <cluster>)` while in progress and `until`
 * is still ahead of `now`, `<status> (waited for window until <time>)` otherwise (finished, or the
 * window has opened and the restarts go on); the plain status when it never waited. Text only:
 * `--output json` keeps the status and gives the wait as its own field ({@link windowWaitJson}).
 * @example propagationOutcome({ status: 'in-progress', windowWait: { until, held: 2, cluster: 'prod' } }, new Date())
 */
export function propagationOutcome(
  record: { readonly status: string; readonly windowWait?: WindowWaitText | null },
  now: Date,
): string {
  const wait = record.windowWait;
  if (!wait) return record.status;
  if (record.status === 'in-progress' && Date.parse(wait.until) > now.getTime()) {
    return `waiting-for-window until ${formatTime(wait.until)} (${wait.held} held in ${wait.cluster})`;
  }
  return `${record.status} (waited for window until ${formatTime(wait.until)})`;
}

/** What the text needs of a wait: where, until when, how many held. */
export interface WindowWaitText {
  readonly cluster: string;
  readonly until: string;
  readonly held: number;
}

/** The `--output json` shape of a wait: stable keys, or null. */
export function windowWaitJson(record: Pick<PropagationRecord, 'windowWait'>) {
  const wait = record.windowWait;
  return wait ? { cluster: wait.cluster, until: wait.until, held: wait.held } : null;
}
