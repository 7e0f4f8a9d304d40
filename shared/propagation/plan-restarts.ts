import { ANNOTATIONS } from './consumer-annotations';
import type { ConsumerMatch } from './find-consumers';
import type { Workload } from './workload-types';

/** kubectl rollout restart writes this pod-template annotation. */
export const KUBECTL_RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface PlannedRestart {
  readonly workload: Workload;
  /** JSON merge patch for the workload: the pod-template annotations kubectl writes, plus ours. */
  readonly patch: { spec: { template: { metadata: { annotations: Record<string, string> } } } };
}

export interface RestartPlan {
  readonly waves: readonly (readonly PlannedRestart[])[];
  readonly alreadyRestarted: readonly Workload[];
  readonly refused: readonly { readonly workload: Workload; readonly why: string }[];
}

/**
 * Restarts for one secret version, in waves of at most `concurrency` workloads. A workload whose
 * pod template already records this secret version is left alone, so a repeated step never
 * restarts it twice; a paused Deployment is refused (kubectl refuses it too).
 * @example planRestarts(consumers, { secretName: 'prod/app/db', versionId }, { concurrency: 5, now })
 */
export function planRestarts(
  consumers: readonly ConsumerMatch[],
  version: { readonly secretName: string; readonly versionId: string },
  options: { readonly concurrency: number; readonly now: Date },
): RestartPlan {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError('concurrency must be a whole number of at least 1');
  }
  const marker = restartMarker(version.secretName, version.versionId);
  const pending: PlannedRestart[] = [];
  const alreadyRestarted: Workload[] = [];
  const refused: { workload: Workload; why: string }[] = [];
  for (const { workload } of dedupe(consumers)) {
    if (workload.podTemplateAnnotations[ANNOTATIONS.restartedFor] === marker) {
      alreadyRestarted.push(workload);
    } else if (workload.paused) {
      refused.push({ workload, why: 'the Deployment is paused; resume it to let the restart roll out' });
    } else {
      const annotations = {
        [KUBECTL_RESTARTED_AT]: options.now.toISOString(),
        [ANNOTATIONS.restartedFor]: marker,
      };
      pending.push({ workload, patch: { spec: { template: { metadata: { annotations } } } } });
    }
  }
  const waves: PlannedRestart[][] = [];
  for (let i = 0; i < pending.length; i += options.concurrency) {
    waves.push(pending.slice(i, i + options.concurrency));
  }
  return { waves, alreadyRestarted, refused };
}

/** The value that ties a restart to one secret version (annotation values allow any string). */
export function restartMarker(secretName: string, versionId: string): string {
  return `${secretName}@${versionId}`;
}

function dedupe(consumers: readonly ConsumerMatch[]): ConsumerMatch[] {
  const seen = new Set<string>();
  return consumers.filter(({ workload }) => {
    const key = `${workload.kind}/${workload.namespace}/${workload.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
