/**
 * Our marker on a workload, one per secret, so several secrets consumed by one workload never
 * overwrite each other's: `restarted.secret-rotator.io/<slug>` on the pod template, the AWSCURRENT
 * move this workload was restarted for (written with kubectl's restartedAt, in the same patch that
 * starts the rollout). The marker alone never means done: a workload counts as done for a move only
 * while its marker names the move AND its rollout is complete, re-read on every look (see
 * consumer-state.ts). No second "verified" annotation is written: on a Deployment any annotation
 * change bumps metadata.generation, and a stored verdict could go stale when the workload changes.
 * The slug is readable (the secret name, cut to fit) and unique (8 hex of the name's SHA-256): an
 * annotation key's name part allows 63 characters of `[A-Za-z0-9._-]`, secret names do not fit.
 */
import { createHash } from 'node:crypto';

/** kubectl rollout restart writes this pod-template annotation; every restart of ours writes it too. */
export const KUBECTL_RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export const RESTARTED_MARKER_PREFIX = 'restarted.secret-rotator.io';

/** One AWSCURRENT move: which version became current, and the move's sequence number for the secret. */
export interface Move {
  readonly versionId: string;
  readonly seq: number;
}

/** The marker value for one move: `<version id>#<move sequence>`. */
export function moveId(move: Move): string {
  return `${move.versionId}#${move.seq}`;
}

/** The annotation name part for a secret: `<slug of the name>-<8 hex>`, at most 59 characters. */
export function markerSlug(secretName: string): string {
  const hash = createHash('sha256').update(secretName).digest('hex').slice(0, 8);
  const slug = secretName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 50)
    .replace(/[^a-z0-9]+$/, '');
  return slug ? `${slug}-${hash}` : hash;
}

export function restartedMarkerKey(secretName: string): string {
  return `${RESTARTED_MARKER_PREFIX}/${markerSlug(secretName)}`;
}
