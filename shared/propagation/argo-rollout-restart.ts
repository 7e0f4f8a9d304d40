/**
 * How a restart reaches an Argo Rollout. The workflow builds one restart patch for every kind
 * (kubectl's restartedAt and our per-secret marker on the pod template, restart-steps.ts); on a
 * Rollout that patch would start a new revision, i.e. a full canary or blue-green rollout with its
 * steps, pauses and analyses. What `kubectl argo rollouts restart` does instead is set
 * `spec.restartAt` (pkg/kubectl-argo-rollouts/cmd/restart/restart.go: a merge patch, RFC 3339 in
 * whole seconds), after which the controller evicts every pod created before that instant, within
 * maxUnavailable and PodDisruptionBudgets, and copies it to status.restartedAt
 * (rollout/restart.go): same revision, same ReplicaSets. The controller skips a pod whose
 * creationTimestamp (whole seconds) equals restartAt, so we set restartAt to the next whole second
 * after the patch, never the current one: a pod created earlier in the patch's second, before the
 * Secret resynced, would otherwise keep the old value and still count as restarted. Our marker goes on the Rollout's own
 * metadata: a metadata change neither bumps a custom resource's generation nor touches the template.
 */
import { KUBECTL_RESTARTED_AT } from './markers';
import type { Workload } from './workload-types';

/** The restart patch as the workflow builds it for any kind. */
interface PodTemplateRestartPatch {
  readonly spec?: { readonly template?: { readonly metadata?: { readonly annotations?: unknown } } };
}

export interface ArgoRestartPatch {
  readonly metadata: { readonly annotations: Record<string, string> };
  readonly spec: { readonly restartAt: string };
}

/**
 * The Rollout patch for a pod-template restart patch: kubectl's restartedAt becomes spec.restartAt
 * at the next whole second (whole: the controller compares it with status.restartedAt, which it
 * writes in whole seconds, so a fraction would never match; next: every pod created up to the patch,
 * in the same second included, is older and is replaced; the controller waits the fraction of a
 * second, rollout/restart.go checkEnqueueRollout), every other annotation (our markers) goes on
 * the Rollout's metadata. Throws a TypeError for anything else: only restart patches are translated.
 * @example argoRestartPatch({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-01T06:00:00.250Z' } } } } })
 *   // → { metadata: { annotations: {} }, spec: { restartAt: '2026-12-01T06:00:01Z' } }
 */
export function argoRestartPatch(patch: object): ArgoRestartPatch {
  const { spec, ...rest } = patch as PodTemplateRestartPatch;
  const { template, ...otherSpec } = spec ?? {};
  const { metadata, ...otherTemplate } = template ?? {};
  const annotations = metadata?.annotations;
  if (
    Object.keys(rest).length > 0 ||
    Object.keys(otherSpec).length > 0 ||
    Object.keys(otherTemplate).length > 0 ||
    Object.keys(metadata ?? {}).some((key) => key !== 'annotations') ||
    typeof annotations !== 'object' ||
    annotations === null
  ) {
    throw new TypeError('an Argo Rollout takes only a restart patch (pod template annotations)');
  }
  const { [KUBECTL_RESTARTED_AT]: restartedAt, ...markers } = annotations as Record<string, unknown>;
  const at = typeof restartedAt === 'string' ? Date.parse(restartedAt) : Number.NaN;
  if (!Number.isFinite(at)) throw new TypeError(`a restart patch needs ${KUBECTL_RESTARTED_AT} (a time)`);
  if (Object.values(markers).some((value) => typeof value !== 'string')) {
    throw new TypeError('restart patch annotations must be strings');
  }
  return {
    metadata: { annotations: markers as Record<string, string> },
    spec: { restartAt: nextWholeSecond(at) },
  };
}

/**
 * The first whole second strictly after `epochMs`, in RFC 3339 (Go's time.RFC3339, as the kubectl
 * plugin writes restartAt): any creationTimestamp up to `epochMs` is before it.
 * @example nextWholeSecond(Date.parse('2026-12-01T06:00:00.000Z')) // → '2026-12-01T06:00:01Z'
 */
export function nextWholeSecond(epochMs: number): string {
  return new Date((Math.floor(epochMs / 1000) + 1) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Where a workload keeps our per-secret markers: a Rollout on itself, the others on the pod template. */
export function markerAnnotations(workload: Workload): Readonly<Record<string, string>> {
  return workload.kind === 'Rollout' ? workload.annotations : workload.podTemplateAnnotations;
}

/** When the workload was last restarted, in epoch ms (NaN when never): restartAt or kubectl's restartedAt. */
export function lastRestart(workload: Workload): number {
  if (workload.kind === 'Rollout') return Date.parse(workload.rollout?.spec.restartAt ?? '');
  return Date.parse(workload.podTemplateAnnotations[KUBECTL_RESTARTED_AT] ?? '');
}
