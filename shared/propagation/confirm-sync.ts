import type { ExternalSecretSyncStatus } from './eso-types';

export type SyncVerdict =
  | { readonly verdict: 'synced' }
  | { readonly verdict: 'waiting' }
  | { readonly verdict: 'failed'; readonly reason: string };

/**
 * Whether ESO has synced an ExternalSecret since we annotated it: a new syncedResourceVersion and
 * Ready=True with reason SecretSynced. ESO writes both in one status update after a successful
 * sync (markAsDone in pkg/controllers/externalsecret, v0.20), and the version is
 * `<generation>-<hash of labels and annotations>`, so it changes only once ESO has reconciled an
 * object that carries our annotation. No clock is compared: `refreshTime` is written on the ESO
 * pod's clock, and a Lambda clock a second ahead would read a real sync as old (review M7).
 * Ready=False with SecretSyncedError is a failure.
 */
export function confirmSync(before: ExternalSecretSyncStatus, now: ExternalSecretSyncStatus): SyncVerdict {
  if (now.ready?.status === 'False' && now.ready.reason === 'SecretSyncedError') {
    return { verdict: 'failed', reason: now.ready.message ?? 'SecretSyncedError' };
  }
  const newVersion =
    now.syncedResourceVersion !== undefined && now.syncedResourceVersion !== before.syncedResourceVersion;
  if (newVersion && now.ready?.status === 'True' && now.ready.reason === 'SecretSynced') {
    return { verdict: 'synced' };
  }
  return { verdict: 'waiting' };
}
