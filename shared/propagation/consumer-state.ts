/**
 * Where one consumer stands in the propagation of one AWSCURRENT move, read from the workload
 * itself (its markers and rollout status), never from the workflow's state: what the cluster says
 * is the truth, so a retried or reconciled propagation picks up exactly where the last one stopped.
 */

import { lastRestart, markerAnnotations } from './argo-rollout-restart';
import { findConsumers } from './find-consumers';
import { restartedMarkerKey } from './markers';
import { refKey } from './object-ref';
import { type RolloutState, rolloutState, templateRolledOut } from './rollout-status';
import { isRolloutKind, type Workload } from './workload-types';

export type ConsumerState =
  /**
   * Restarted for this move and its rollout is complete (re-read on every look); past the rollout
   * deadline, once the canary rolled out, also when every pod runs the restarted template and some
   * of them are available.
   */
  | { readonly state: 'verified' }
  /** Restarted for this move; the rollout is still progressing. */
  | { readonly state: 'in-flight'; readonly rollout: RolloutState }
  /** Restarted for this move, rollout failed or not done by the deadline. */
  | { readonly state: 'failed'; readonly reason: string }
  /** To be restarted. */
  | { readonly state: 'pending' }
  /** Picks the value up on its next pod (OnDelete): never restarted, never verified, never a failure. */
  | { readonly state: 'next-pod'; readonly reason: string }
  /** Will not be restarted, and that is a failure of this propagation (paused, stale copy). */
  | { readonly state: 'refused'; readonly reason: string };

export interface MoveContext {
  readonly secretName: string;
  /** `<version>#<seq>`, see markers.ts. */
  readonly moveId: string;
  readonly rolloutTimeoutMs: number;
  readonly now: Date;
  /**
   * The cluster's canary rolled out (an earlier call verified it; no canary, as in an emergency,
   * counts as such): only then does a rollout past its deadline with pods lost since count as
   * verified. Until then a canary whose new pods were briefly ready and then crashed must fail.
   */
  readonly canaryVerified?: boolean;
}

/** The state of one consumer for `move`; `staleSecret` is a Secret it also uses that did not resync. */
export function consumerState(workload: Workload, move: MoveContext, staleSecret?: string): ConsumerState {
  // Checked first: a bare Pod copied from a restarted template may carry a marker it never earned.
  if (!isRolloutKind(workload.kind)) return { state: 'next-pod', reason: nextPodReason(workload) ?? '' };
  // A Deployment an Argo Rollout takes its template from: the Rollout is the one restarted.
  if (workload.templateOfRollout !== undefined)
    return { state: 'next-pod', reason: rolloutTemplateReason(workload) };
  // Before the marker: a StatefulSet or DaemonSet switched to OnDelete after its restart rolls
  // nothing out any more; that is not a failed rollout.
  const nextPod = nextPodReason(workload);
  if (nextPod) return { state: 'next-pod', reason: nextPod };
  const marker = markerAnnotations(workload)[restartedMarkerKey(move.secretName)];
  if (marker === move.moveId) {
    const rollout = workload.rollout ? rolloutState(workload.rollout) : undefined;
    if (!rollout) return { state: 'in-flight', rollout: { state: 'progressing', message: 'no status yet' } };
    if (rollout.state === 'done') return { state: 'verified' };
    if (rollout.state === 'failed') return { state: 'failed', reason: rollout.message };
    const restartedAt = lastRestart(workload);
    if (Number.isFinite(restartedAt) && move.now.getTime() > restartedAt + move.rolloutTimeoutMs) {
      // Every call looks at every consumer again, long after its rollout was verified: pods
      // unavailable since (a scale-up, an eviction, a drained node) are not this restart failing.
      // With no pod of an older template left and the restarted one available somewhere, the value
      // is delivered; with none available, the restarted template itself does not come up.
      if (move.canaryVerified && workload.rollout && templateRolledOut(workload.rollout)) {
        return { state: 'verified' };
      }
      const seconds = Math.round(move.rolloutTimeoutMs / 1000);
      return { state: 'failed', reason: `rollout not done within ${seconds} s (${rollout.message})` };
    }
    return { state: 'in-flight', rollout };
  }
  // Restarted for a newer move of this secret (AWSCURRENT moved again while this move was still
  // restarting): that move's propagation owns the consumer and verifies it. Restarting it back would
  // make the two moves restart each other in turn (fault row P found that livelock).
  const newer = newerMove(marker, move.moveId);
  if (newer) {
    return {
      state: 'next-pod',
      reason: `restarted for a newer move of this secret (${newer}): that propagation verifies it`,
    };
  }
  if (workload.paused) {
    return {
      state: 'refused',
      reason: `the ${workload.kind} is paused; resume it to let the restart roll out`,
    };
  }
  if (staleSecret) {
    return {
      state: 'refused',
      reason: `also uses Secret ${staleSecret}, whose ExternalSecret did not confirm a sync`,
    };
  }
  return { state: 'pending' };
}

/** The marker's move when it is a newer move of the same secret than `moveId` (a higher sequence). */
function newerMove(marker: string | undefined, moveId: string): string | undefined {
  if (marker === undefined) return undefined;
  const seqOf = (id: string) => Number(id.slice(id.lastIndexOf('#') + 1));
  const theirs = seqOf(marker);
  return Number.isInteger(theirs) && theirs > seqOf(moveId) ? marker : undefined;
}

/**
 * Consumers that have no rollout to restart: CronJobs, Jobs and bare Pods, and StatefulSets and
 * DaemonSets with the OnDelete strategy, which replace pods only when they are deleted.
 */
function nextPodReason(workload: Workload): string | undefined {
  switch (workload.kind) {
    case 'CronJob':
      return workload.suspended
        ? 'a suspended CronJob: its next run, once resumed, starts with the new value'
        : 'a CronJob: its next run starts with the new value';
    case 'Job':
      return 'a Job: pods it starts from now on get the new value; running ones keep the old one until they finish';
    case 'Pod':
      return 'a bare Pod (no controller): keeps the old value until it is deleted and created again';
    default:
      break;
  }
  const strategy = workload.rollout?.spec.updateStrategy?.type;
  if (workload.kind !== 'Deployment' && strategy !== undefined && strategy !== 'RollingUpdate') {
    return `update strategy ${strategy}: picks the new value up on its next pod`;
  }
  return undefined;
}

function rolloutTemplateReason(workload: Workload): string {
  const replicas = workload.rollout?.spec.replicas ?? 1;
  const pods =
    replicas === 0 ? 'scaled to 0' : `its own ${replicas} pod(s) keep the old value until replaced`;
  return `the pod template of Argo Rollout ${workload.templateOfRollout} (workloadRef), which is restarted instead; never restarted itself, as that would start a new Rollout revision (${pods})`;
}

/** The Kubernetes Secrets one namespace's consumers are judged by. */
export interface NamespaceSecrets {
  /** Secrets whose ExternalSecret confirmed the resync: their consumers are restarted. */
  readonly confirmed: ReadonlySet<string>;
  /** Secrets whose ExternalSecret did not: a consumer of one of these is refused (stale copy). */
  readonly stale: ReadonlySet<string>;
  /** Each Secret's annotations as far as known (Reloader's `ignore`/`match`, from the ExternalSecret). */
  readonly annotations: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/**
 * The consumers in one namespace of the confirmed Secrets, each with its state for the move.
 * Workloads opted out (ignore, or not opted in under requireOptIn) are not consumers.
 */
export function namespaceConsumers(
  workloads: readonly Workload[],
  secrets: NamespaceSecrets,
  move: MoveContext,
  options: { readonly requireOptIn: boolean },
): { readonly workload: Workload; readonly state: ConsumerState }[] {
  if (secrets.confirmed.size === 0) return [];
  const selection = { ...options, secretAnnotations: secrets.annotations };
  const { consumers } = findConsumers(secrets.confirmed, workloads, selection);
  const staleUse = new Map<string, string>();
  if (secrets.stale.size > 0) {
    for (const match of findConsumers(secrets.stale, workloads, selection).consumers) {
      staleUse.set(refKey(match.workload), match.reasons[0]?.secret ?? '');
    }
  }
  return consumers.map(({ workload }) => ({
    workload,
    state: consumerState(workload, move, staleUse.get(refKey(workload))),
  }));
}
