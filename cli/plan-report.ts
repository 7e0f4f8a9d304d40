import { consumerState } from '../shared/propagation/consumer-state';
import type { ConsumerReason } from '../shared/propagation/find-consumers';
import type { RefreshBehaviour } from '../shared/propagation/find-external-secrets';
import type { ExternalSecretTarget, PropagationPlan } from '../shared/propagation/propagation-plan';
import type { Workload } from '../shared/propagation/workload-types';

export interface PlannedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Why it would restart: which Kubernetes Secret it uses, and how. */
  readonly reasons: readonly string[];
}

export interface SkippedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly why: string;
}

export interface PlannedExternalSecret {
  readonly namespace: string;
  readonly name: string;
  readonly targetSecret: string;
  readonly refresh: RefreshBehaviour;
  /** Why it was chosen: the references that resolve to the secret. */
  readonly reasons: readonly string[];
  /** Replica regions it reads: resynced once each replica has the new version. */
  readonly replicaRegions?: readonly string[];
  readonly restart: readonly PlannedWorkload[];
  readonly skip: readonly SkippedWorkload[];
}

export interface ClusterPlanReport {
  readonly cluster: string;
  readonly externalSecrets: readonly PlannedExternalSecret[];
  /**
   * ExternalSecrets that name the secret through stores in regions where it is neither the primary
   * nor a replica: a rotation does not resync them (there, the name is another secret or none).
   */
  readonly notSynced?: readonly {
    namespace: string;
    name: string;
    regions: readonly string[];
    reasons: readonly string[];
  }[];
  /** Set when the cluster could not be planned (unreachable, forbidden). */
  readonly error?: string;
}

// A dry run plans for a move that has not happened yet, so no restart marker can match it.
const NEXT_MOVE = '(next rotation)';

/**
 * What a rotation would touch in one cluster, from the engine's own plan: ExternalSecrets to
 * resync and the workloads to restart, each with its reasons, and what would be skipped and why
 * (opt-outs, paused Deployments, ExternalSecrets ESO will not refresh).
 */
export function describePlan(cluster: string, plan: PropagationPlan, now: Date): ClusterPlanReport {
  const describe = (target: ExternalSecretTarget, refreshes: boolean): PlannedExternalSecret => {
    const es = target.affected.externalSecret;
    const skip: SkippedWorkload[] = target.skipped.map((s) => ({ ...ref(s.workload), why: s.why }));
    const restart: PlannedWorkload[] = [];
    if (refreshes) {
      // The workflow's own judgement of each consumer (consumer-state.ts): restarted, or why not.
      const move = { secretName: plan.secret.name, moveId: NEXT_MOVE, rolloutTimeoutMs: 0, now };
      for (const consumer of target.consumers) {
        const state = consumerState(consumer.workload, move);
        if (state.state === 'pending') {
          restart.push({ ...ref(consumer.workload), reasons: consumer.reasons.map(describeReason) });
        } else if (state.state === 'refused' || state.state === 'next-pod') {
          skip.push({ ...ref(consumer.workload), why: state.reason });
        }
      }
    } else {
      const why = `ESO will not refresh ExternalSecret ${es.namespace}/${es.name} (${target.affected.refresh}), so a restart would load the old value`;
      skip.push(...target.consumers.map((c) => ({ ...ref(c.workload), why })));
    }
    return {
      namespace: es.namespace,
      name: es.name,
      targetSecret: target.affected.targetSecret,
      refresh: target.affected.refresh,
      reasons: target.affected.reasons,
      ...(target.affected.replicaRegions?.length && { replicaRegions: target.affected.replicaRegions }),
      restart,
      skip,
    };
  };
  return {
    cluster,
    externalSecrets: [
      ...plan.resync.map((t) => describe(t, true)),
      ...plan.notRefreshing.map((t) => describe(t, false)),
    ],
    ...(plan.otherRegion?.length && {
      notSynced: plan.otherRegion.map((o) => ({
        namespace: o.externalSecret.namespace,
        name: o.externalSecret.name,
        regions: o.regions,
        reasons: o.reasons,
      })),
    }),
  };
}

function ref(workload: Workload) {
  return { kind: workload.kind, namespace: workload.namespace, name: workload.name };
}

function describeReason(reason: ConsumerReason): string {
  return `uses Secret ${reason.secret} via ${reason.via}${reason.where ? ` in ${reason.where}` : ''}`;
}

/** The plan as text: one block per cluster, every choice with its reason. */
export function renderPlan(reports: readonly ClusterPlanReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`cluster ${report.cluster}`);
    if (report.error) {
      lines.push(`  could not plan: ${report.error}`);
      continue;
    }
    if (report.externalSecrets.length === 0) {
      lines.push('  no ExternalSecret here resolves to this secret: nothing would be touched');
    }
    for (const es of report.externalSecrets) {
      const replicas = es.replicaRegions?.length
        ? ` once the replica in ${es.replicaRegions.join(' and ')} has the new version`
        : '';
      const action =
        es.refresh === 'refreshes'
          ? `resync (external-secrets.io/force-sync)${replicas}`
          : `not refreshed by ESO (${es.refresh}); its consumers are not restarted`;
      lines.push(`  ExternalSecret ${es.namespace}/${es.name} → Secret ${es.targetSecret}: ${action}`);
      for (const reason of es.reasons) lines.push(`    because ${reason}`);
      for (const w of es.restart)
        lines.push(`    restart ${`${w.kind}/${w.name}`.padEnd(28)} ${w.reasons.join('; ')}`);
      for (const w of es.skip) lines.push(`    skip    ${`${w.kind}/${w.name}`.padEnd(28)} ${w.why}`);
    }
    for (const es of report.notSynced ?? []) {
      lines.push(
        `  ExternalSecret ${es.namespace}/${es.name}: not resynced: it reads the secret's name in ${es.regions.join(', ')}, where the secret is not replicated`,
      );
      for (const reason of es.reasons) lines.push(`    because ${reason}`);
    }
    const count = (pick: (es: PlannedExternalSecret) => number) =>
      report.externalSecrets.reduce((sum, es) => sum + pick(es), 0);
    lines.push(
      `  total: ${count((es) => (es.refresh === 'refreshes' ? 1 : 0))} ExternalSecret(s) to resync, ` +
        `${count((es) => es.restart.length)} workload(s) to restart, ${count((es) => es.skip.length)} skipped` +
        (report.notSynced?.length ? `, ${report.notSynced.length} not synced (unreplicated region)` : ''),
    );
  }
  return lines.join('\n');
}
