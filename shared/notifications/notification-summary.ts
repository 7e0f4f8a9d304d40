/**
 * The words of a notification, shared by the Slack and Teams formats: a title, facts (label and
 * value) and one line per cluster. Everything here comes from a {@link PropagationNotification},
 * which holds names, version ids, counts and one-word error names only.
 */

import type { ClusterCounts, PropagationNotification } from './propagation-notification';

/** Clusters named one per line; the rest are counted. */
export const MAX_CLUSTER_LINES = 20;

export type Tone = 'good' | 'warning' | 'attention';

export interface NotificationSummary {
  readonly title: string;
  readonly tone: Tone;
  readonly facts: readonly { readonly label: string; readonly value: string }[];
  readonly clusterLines: readonly string[];
  /** Where to read more: the CLI's history of the secret. */
  readonly footer: string;
}

const ENDED: Record<PropagationNotification['executionStatus'], string> = {
  SUCCEEDED: 'Propagation succeeded',
  FAILED: 'Propagation failed',
  TIMED_OUT: 'Propagation timed out',
  ABORTED: 'Propagation aborted',
};

/**
 * Title, facts and cluster lines for one notification.
 * @example summarize(n).title // 'Propagation failed: prod/app-team/db'
 */
export function summarize(n: PropagationNotification): NotificationSummary {
  const laterStepFailed = n.executionStatus === 'FAILED' && n.recorded === 'succeeded';
  const headline = laterStepFailed ? 'Propagated, then a later step failed' : ENDED[n.executionStatus];
  const tone: Tone = n.outcome === 'succeeded' ? 'good' : laterStepFailed ? 'warning' : 'attention';
  const facts = [
    { label: 'Secret', value: n.secretName },
    {
      label: 'Version',
      value: n.moveSeq && n.moveSeq > 1 ? `${n.versionId} (move ${n.moveSeq})` : n.versionId,
    },
    ...(n.fromVersionId ? [{ label: 'Previous version', value: n.fromVersionId }] : []),
    ...(n.trigger ? [{ label: 'Trigger', value: n.actor ? `${n.trigger} by ${n.actor}` : n.trigger }] : []),
    ...(n.durationMs !== undefined ? [{ label: 'Duration', value: formatDuration(n.durationMs) }] : []),
    ...(n.clusters.length > 0 ? [{ label: 'Workloads', value: totalsOf(n.clusters) }] : []),
    ...(n.errorName ? [{ label: 'Error', value: n.errorName }] : []),
    ...(n.recorded ? [{ label: 'Ledger', value: `recorded ${n.recorded}` }] : []),
    { label: 'Execution', value: n.executionName },
  ];
  const named = n.clusters.slice(0, MAX_CLUSTER_LINES).map(clusterLine);
  const more = n.clusters.length - named.length;
  return {
    title: `${headline}: ${n.secretName}`,
    tone,
    facts,
    clusterLines: more > 0 ? [...named, `… and ${more} more cluster(s)`] : named,
    footer: `Details without values: rotator history ${n.secretName}`,
  };
}

function clusterLine(c: ClusterCounts): string {
  const parts = [
    `${c.synced} synced`,
    `${c.restarted} restarted`,
    ...(c.failed > 0 ? [`${c.failed} failed`] : []),
    ...(c.nextPod > 0 ? [`${c.nextPod} on next pod`] : []),
    ...(c.notRestarted > 0 ? [`${c.notRestarted} not restarted`] : []),
    ...(c.gone > 0 ? [`${c.gone} deleted while it ran`] : []),
  ];
  return `${c.outcome === 'succeeded' ? '✅' : '❌'} ${c.cluster}: ${c.outcome}, ${parts.join(', ')}`;
}

function totalsOf(clusters: readonly ClusterCounts[]): string {
  const sum = (key: 'synced' | 'restarted' | 'failed') => clusters.reduce((n, c) => n + c[key], 0);
  const ok = clusters.filter((c) => c.outcome === 'succeeded').length;
  return `${sum('restarted')} restarted, ${sum('synced')} ExternalSecrets synced, ${sum('failed')} failed; ${ok} of ${clusters.length} cluster(s) succeeded`;
}

/** `42 s`, `3 min 5 s`, `2 h 4 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
