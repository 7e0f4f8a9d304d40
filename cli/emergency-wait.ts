import { setTimeout as sleep } from 'node:timers/promises';
import type { LedgerEntry, PropagationRecord } from '../shared/ledger/ledger-port';
import type { EmergencyProgress } from './after-requested';
import { formatTime, shortVersion } from './time-format';

export interface PollOptions {
  readonly signal: AbortSignal;
  readonly pollMs: number;
  readonly onProgress: (progress: EmergencyProgress) => void;
}

export type RotationWait =
  | { readonly outcome: 'succeeded' }
  | { readonly outcome: 'failed' | 'timed-out'; readonly detail: string };

/**
 * Polls the secret's staging labels (DescribeSecret; no value) until `versionId` is AWSCURRENT.
 * A version that was staged and then disappeared means the rotation was cancelled or replaced.
 */
export async function waitForRotation(
  stagesOf: () => Promise<Readonly<Record<string, readonly string[]>>>,
  versionId: string,
  options: PollOptions,
): Promise<RotationWait> {
  let seen = false;
  for (;;) {
    const stages = (await stagesOf())[versionId];
    if (stages?.includes('AWSCURRENT')) return { outcome: 'succeeded' };
    if (stages) seen = true;
    else if (seen) {
      return {
        outcome: 'failed',
        detail: `version ${versionId} is no longer staged: the rotation was cancelled or replaced`,
      };
    }
    options.onProgress({
      stage: 'rotation',
      message: stages
        ? `version ${shortVersion(versionId)} is ${stages.join(', ') || 'unlabelled'}; waiting for the rotation function to finish`
        : `waiting for version ${shortVersion(versionId)} to appear`,
    });
    if (!(await pause(options))) {
      return { outcome: 'timed-out', detail: `version ${versionId} did not become AWSCURRENT in time` };
    }
  }
}

export type PropagationWait =
  | { readonly outcome: 'succeeded' | 'failed'; readonly record: PropagationRecord }
  | { readonly outcome: 'timed-out'; readonly detail: string; readonly record?: PropagationRecord };

/** Polls the ledger until the propagation of `versionId` is recorded as succeeded or failed. */
export async function waitForPropagation(
  history: () => Promise<readonly LedgerEntry[]>,
  versionId: string,
  options: PollOptions,
): Promise<PropagationWait> {
  for (;;) {
    const record = (await history()).find(
      (entry): entry is Extract<LedgerEntry, { kind: 'propagation' }> =>
        entry.kind === 'propagation' && entry.versionId === versionId,
    );
    if (record && record.status !== 'in-progress') return { outcome: record.status, record };
    options.onProgress({
      stage: 'propagation',
      message: record
        ? `in progress since ${formatTime(record.startedAt)} (${record.executionId})`
        : 'waiting for the workflow to claim the propagation',
    });
    if (!(await pause(options))) {
      return {
        outcome: 'timed-out',
        detail: record
          ? `the propagation of ${versionId} was still in progress`
          : `no propagation of ${versionId} was recorded (are clusters configured?)`,
        record,
      };
    }
  }
}

/** Sleeps one poll interval; false when the signal fired (timeout or interrupt). */
async function pause(options: PollOptions): Promise<boolean> {
  if (options.signal.aborted) return false;
  try {
    await sleep(options.pollMs, undefined, { signal: options.signal });
    return true;
  } catch {
    return false;
  }
}
