import type { ExternalSecretSyncStatus } from './eso-types';

export type SyncVerdict =
  | { readonly verdict: 'synced' }
  | { readonly verdict: 'waiting' }
  | { readonly verdict: 'failed'; readonly reason: string };

/**
 * Whether ESO has synced an ExternalSecret since we annotated it: a new syncedResourceVersion
 * (ESO hashes metadata into it), Ready=True with reason SecretSynced, and a refreshTime no older
 * than the annotation (RFC 3339, whole seconds). Ready=False with SecretSyncedError is a failure.
 */
export function confirmSync(
  before: ExternalSecretSyncStatus,
  now: ExternalSecretSyncStatus,
  annotatedAt: Date,
): SyncVerdict {
  if (now.ready?.status === 'False' && now.ready.reason === 'SecretSyncedError') {
    return { verdict: 'failed', reason: now.ready.message ?? 'SecretSyncedError' };
  }
  const annotatedSecond = Math.floor(annotatedAt.getTime() / 1000) * 1000;
  const refreshed = now.refreshTime !== undefined && Date.parse(now.refreshTime) >= annotatedSecond;
  const newVersion =
    now.syncedResourceVersion !== undefined && now.syncedResourceVersion !== before.syncedResourceVersion;
  if (refreshed && newVersion && now.ready?.status === 'True' && now.ready.reason === 'SecretSynced') {
    return { verdict: 'synced' };
  }
  return { verdict: 'waiting' };
}
