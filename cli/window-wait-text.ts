import type { PropagationRecord } from '../shared/ledger/ledger-port';
import { formatTime } from './time-format';

/**
 * How `status` and `history` show a propagation's outcome when it waited for a restart window:
 * `waiting-for-window until <time> (<n> held in <cluster>)` while in progress, `<status> (waited for
 * window until <time>)` after; the plain status otherwise.
 * @example propagationOutcome({ status: 'in-progress', windowWait: { until, held: 2, cluster: 'prod' } })
 */
export function propagationOutcome(record: Pick<PropagationRecord, 'status' | 'windowWait'>): string {
  const wait = record.windowWait;
  if (!wait) return record.status;
  if (record.status === 'in-progress') {
    return `waiting-for-window until ${formatTime(wait.until)} (${wait.held} held in ${wait.cluster})`;
  }
  return `${record.status} (waited for window until ${formatTime(wait.until)})`;
}

/** The `--output json` shape of a wait: stable keys, or null. */
export function windowWaitJson(record: Pick<PropagationRecord, 'windowWait'>) {
  const wait = record.windowWait;
  return wait ? { cluster: wait.cluster, until: wait.until, held: wait.held } : null;
}
