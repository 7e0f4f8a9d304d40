import type { RotationLogger } from '../observability';
import type { ClusterPort } from '../propagation/cluster-port';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import type { ConsumerState } from '../propagation/consumer-state';
import type { Workload } from '../propagation/workload-types';
import { readNamespaceAnnotations } from './read-namespace-annotations';
import {
  needsNamespaceWindow,
  type RestartWindowsConfig,
  restartWindowPolicy,
  type WindowDecision,
  windowDecision,
} from './restart-window-policy';
import type { RestartBudget } from './workflow-state';

interface Gated {
  workload: Workload;
  state: ConsumerState;
}

export interface HeldConsumer {
  readonly workload: Workload;
  readonly opensAt: Date;
  readonly window: string;
}

export interface WindowGateDeps {
  readonly restartWindows?: RestartWindowsConfig;
  readonly now: () => Date;
  /** Warns when Namespaces cannot be read (403: an RBAC manifest older than the namespace rule). */
  readonly logger?: Pick<RotationLogger, 'warn'>;
}

/**
 * The gate for one call. `ready` returns the pending consumers that may restart now and `held` those
 * that wait; both turn a consumer with a malformed or too distant window `refused` on the way.
 * Decisions are per window source, once per look (the clock moves between looks).
 *
 * A Namespace the orchestrator may not read (403) counts as one without an annotation, so the
 * deployment's configuration decides, as before namespace annotations existed; the step warns once
 * per call naming the namespaces. Refusing to restart instead would leave every consumer of a
 * cluster whose RBAC was not updated on its old value. A Namespace deleted since the plan (404) has
 * no annotation either. Any other error fails the call as the workload lists do.
 * @example const gate = restartWindowGate(cluster, input, deps); const now = await gate.ready(pending);
 */
export function restartWindowGate(
  cluster: Pick<ClusterPort, 'getNamespaceAnnotations'>,
  input: { readonly budget: RestartBudget; readonly plan: { readonly plannedAt: string } },
  deps: WindowGateDeps,
) {
  const policy = restartWindowPolicy(deps.restartWindows);
  const emergency = input.budget.bypassWindows === true;
  const namespaces = new Map<string, Readonly<Record<string, string>> | undefined>();

  const readNamespaces = async (batch: readonly Gated[]) => {
    if (emergency) return;
    const wanted = [
      ...new Set(
        batch
          .filter((g) => needsNamespaceWindow(g.workload))
          .map((g) => g.workload.namespace)
          .filter((ns) => !namespaces.has(ns)),
      ),
    ];
    if (wanted.length === 0) return;
    const read = await readNamespaceAnnotations(cluster, wanted, 'restart-window', deps.logger);
    for (const [index, ns] of wanted.entries()) namespaces.set(ns, read[index]);
  };

  const decide = async (batch: readonly Gated[]) => {
    await readNamespaces(batch);
    const context = { now: deps.now(), since: new Date(input.plan.plannedAt), emergency };
    const cache = new Map<string, WindowDecision>();
    return batch.map((g) => {
      // The workload's own annotation, else its namespace (its annotation, then the configuration).
      const key = needsNamespaceWindow(g.workload)
        ? `namespace\u0000${g.workload.namespace}`
        : `own\u0000${g.workload.annotations[ANNOTATIONS.restartWindow]}`;
      let decision = cache.get(key);
      if (!decision) {
        const namespaceAnnotations = namespaces.get(g.workload.namespace);
        decision = windowDecision(g.workload, policy, { ...context, namespaceAnnotations });
        cache.set(key, decision);
      }
      if (decision.state === 'refused') g.state = { state: 'refused', reason: decision.reason };
      return { g, decision };
    });
  };

  return {
    ready: async <T extends Gated>(pending: readonly T[]): Promise<T[]> =>
      (await decide(pending)).filter(({ decision }) => decision.state === 'open').map(({ g }) => g as T),
    held: async (pending: readonly Gated[]): Promise<HeldConsumer[]> =>
      (await decide(pending)).flatMap(({ g, decision }) =>
        decision.state === 'held'
          ? [{ workload: g.workload, opensAt: decision.opensAt, window: decision.window }]
          : [],
      ),
  };
}
