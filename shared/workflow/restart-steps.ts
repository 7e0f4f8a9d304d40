/**
 * The workflow's restart phase for one cluster: one step, `advance-restarts`, that the state machine
 * calls in a loop (with a short Wait between calls) until it says done. Each call lists the
 * consumers once, reads where each stands from its own markers (consumer-state.ts), restarts in
 * waves bounded by the cluster's restart budget (a canary first), watches the restarted ones with
 * LISTs of only the namespaces and kinds still in flight at an adaptive interval, and returns within
 * its time budget. A consumer is done when its marker names the move and its rollout is complete. The workflow's state holds
 * counts and capped name lists only, so its size and history do not grow with the workloads.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { API_CONCURRENCY, mapAllWithLimit, mapWithLimit } from '../concurrency';
import { isObjectGone, KubernetesCallError } from '../errors';
import type { RotationLogger } from '../observability';
import type { ClusterPort } from '../propagation/cluster-port';
import {
  type ConsumerState,
  type MoveContext,
  type NamespaceSecrets,
  namespaceConsumers,
} from '../propagation/consumer-state';
import { KUBECTL_RESTARTED_AT, moveId, restartedMarkerKey } from '../propagation/markers';
import { refKey } from '../propagation/object-ref';
import {
  isRolloutKind,
  ROLLOUT_KINDS,
  type Workload,
  type WorkloadKind,
} from '../propagation/workload-types';
import * as z from '../schema';
import type { SecretsPort } from '../secrets/secrets-port';
import { versionWith } from '../secrets/versions';
import type { ClusterStepDeps } from './cluster-steps';
import { parseStepInput } from './parse-step-input';
import { restartWindowGate } from './restart-window-gate';
import type { RestartWindowsConfig } from './restart-window-policy';
import {
  type CappedRefs,
  capped,
  clusterIterationSchema,
  clusterPlanSchema,
  esKey,
  LIST_CAP,
  type Ref,
  type RestartBudget,
  type RestartProgress,
  restartProgressSchema,
  syncProgressSchema,
} from './workflow-state';

/** Step invocations per cluster before the restarts are given up as stuck (bounds the history). */
export const MAX_ADVANCE_INVOCATIONS = 200;
const MIN_POLL_MS = 1000;

const advanceInputSchema = z.extend(clusterIterationSchema, {
  plan: clusterPlanSchema,
  sync: syncProgressSchema,
  /** The previous call's progress; `{ done: false }` before the first. */
  restarts: z.union([restartProgressSchema, z.object({ done: z.literal(false) })]),
});

/** The restart step's dependencies: a cluster step's, plus the deployment's restart windows. */
export type RestartStepDeps = ClusterStepDeps & {
  /**
   * The deployment's windows (checked at cold start). @default none: every workload may restart at
   * once, unless its annotation says otherwise
   */
  readonly restartWindows?: RestartWindowsConfig;
  /** Warns when Namespaces' window annotations cannot be read (the Lambda passes its logger). */
  readonly logger?: Pick<RotationLogger, 'warn'>;
  /**
   * DescribeSecret, to see after a restart-window wait whether AWSCURRENT moved on (the Lambda passes
   * the adapter its ledger steps use).
   */
  readonly secrets: Pick<SecretsPort, 'describeSecret'>;
};

/** How many may be in flight: the budget's count, cut to its percentage of the affected consumers. */
export function waveSize(budget: RestartBudget, affected: number): number {
  return Math.max(1, Math.min(budget.inFlight, Math.ceil((budget.percent / 100) * affected)));
}

interface Tracked {
  workload: Workload;
  state: ConsumerState;
}

export async function advanceRestartsStep(raw: unknown, deps: RestartStepDeps): Promise<RestartProgress> {
  const input = parseStepInput(advanceInputSchema, raw, 'advance-restarts');
  const previous = 'invocations' in input.restarts ? input.restarts : undefined;
  if (previous?.done) return previous;
  const invocations = (previous?.invocations ?? 0) + 1;
  let restartMs = previous?.restartMs ?? 0;
  let watchMs = previous?.watchMs ?? 0;
  let waveMs = previous?.waveMs ?? 0;
  let waves = previous?.waves ?? 0;
  let slowestWaveMs = previous?.slowestWaveMs ?? 0;
  const timed = async <T>(work: () => Promise<T>, add: (ms: number) => void): Promise<T> => {
    const from = performance.now();
    try {
      return await work();
    } finally {
      add(performance.now() - from);
    }
  };
  // Past a rollout's deadline, pods lost since count as a verified rollout only once the canary
  // rolled out (consumer-state.ts); with no canary, once one consumer did. Kept once true.
  const canaryNeeded = Math.max(1, input.budget.canary);
  // (Progress written before the flag existed: its count of verified consumers.)
  const canaryVerified = previous?.canaryVerified ?? (previous?.verified ?? 0) >= canaryNeeded;
  const cluster = await deps.clusterFor(input.cluster);
  const secrets = namespaceSecrets(input.plan.resync, new Set(input.sync.synced.map(esKey)));
  const move = (): MoveContext => ({
    secretName: input.secret.name,
    moveId: moveId({ versionId: input.versionId, seq: input.moveSeq }),
    rolloutTimeoutMs: deps.rolloutTimeoutMs,
    now: deps.now(),
    canaryVerified,
  });
  const options = { requireOptIn: deps.requireOptIn };
  const tracked = new Map<string, Tracked>();
  // Consumers deleted between their listing and their restart (this call's; earlier calls' below).
  // Lost if this call then fails: the retry lists again without them, so they go unnamed (as a
  // consumer deleted before its listing does).
  const gone: Ref[] = [];
  const refusedByServer = new Map<string, Extract<ConsumerState, { state: 'refused' }>>();
  const read = async (
    namespaces: readonly string[],
    kinds?: readonly WorkloadKind[],
    onlyTracked = false,
  ) => {
    const lists = await mapWithLimit(namespaces, API_CONCURRENCY, (ns) => cluster.listWorkloads(ns, kinds));
    const context = move();
    namespaces.forEach((ns, index) => {
      // A look at rollouts in flight judges only the workloads already tracked, not the whole list.
      const listed = lists[index] ?? [];
      const found = namespaceConsumers(
        onlyTracked ? listed.filter((w) => tracked.has(refKey(w))) : listed,
        secrets.get(ns) as NamespaceSecrets,
        context,
        options,
      );
      for (const { workload, state } of found) {
        // A restart the API server refused left no marker: judged again, it would read as pending
        // and be sent again on every pass. It stays refused for this call (the next call tries once).
        const key = refKey(workload);
        const refusal = refusedByServer.get(key);
        tracked.set(key, { workload, state: refusal && state.state === 'pending' ? refusal : state });
      }
    });
  };
  // Kinds without a rollout never change state within a move: only the first call lists them.
  await timed(
    () => read([...secrets.keys()], previous ? ROLLOUT_KINDS : undefined),
    (ms) => (restartMs += ms),
  );
  const size = waveSize(
    input.budget,
    [...tracked.values()].filter((t) => isRolloutKind(t.workload.kind)).length,
  );
  const windows = restartWindowGate(cluster, input, deps);
  const lookUntil = Date.now() + (deps.rolloutPollBudgetMs ?? 0);
  const maxInterval = Math.max(MIN_POLL_MS, deps.rolloutPollIntervalMs ?? 5000);
  let interval = MIN_POLL_MS;
  let stopped: string | undefined = previous?.waitUntil ? await supersededAfterWait(input, deps) : undefined;

  // The first pass always starts a wave; so does one right after a wave the API server refused part
  // of (others take the refused ones' places at once, even past the time budget: they start nothing).
  let refill = true;
  while (!stopped) {
    const all = [...tracked.values()];
    const failed = all.filter((t) => t.state.state === 'failed');
    if (failed.length > 0) {
      const verified = all.filter((t) => t.state.state === 'verified').length;
      stopped =
        verified < input.budget.canary
          ? `the canary ${failed[0] ? refKey(failed[0].workload) : 'workload'} did not roll out: restarts stopped`
          : `${failed.length} rollout(s) failed: restarts stopped`;
      break;
    }
    const inFlight = all.filter((t) => t.state.state === 'in-flight');
    // Pending consumers whose restart window is closed wait for it; a malformed one is refused.
    const pending = await windows.ready(all.filter((t) => t.state.state === 'pending'));
    if (inFlight.length === 0 && pending.length === 0) break;
    const verified = all.filter((t) => t.state.state === 'verified').length;
    const room =
      verified < input.budget.canary
        ? Math.min(input.budget.canary - verified, size) - inFlight.length
        : size - inFlight.length;
    // Past the time budget, start nothing new: the next call (after the state machine's Wait) will.
    // A canary runs pods: one scaled to zero rolls out without starting any, which proves nothing.
    const candidates = verified < input.budget.canary ? canaryFirst(pending) : pending;
    const wave = refill || Date.now() < lookUntil ? candidates.slice(0, Math.max(0, room)) : [];
    refill = false;
    if (wave.length > 0) {
      const restartedAt = deps.now().toISOString();
      const marker = move().moveId;
      await timed(
        () =>
          mapAllWithLimit(wave, API_CONCURRENCY, async (t) => {
            const result = await restart(
              cluster,
              t.workload,
              restartPatch(input.secret.name, marker, restartedAt),
            );
            if (result === 'gone') {
              tracked.delete(refKey(t.workload));
              gone.push(toRef(t.workload));
              return;
            }
            if (result === 'restarted') {
              t.state = { state: 'in-flight', rollout: { state: 'progressing', message: 'restarted' } };
              return;
            }
            t.state = result;
            refusedByServer.set(refKey(t.workload), result);
            refill = true;
          }),
        (ms) => {
          restartMs += ms;
          waveMs += ms;
          waves += 1;
          slowestWaveMs = Math.max(slowestWaveMs, ms);
        },
      );
      interval = MIN_POLL_MS;
      if (refill) continue;
    }
    if (Date.now() + interval > lookUntil) break;
    await (deps.sleep ?? ((ms: number) => delay(ms)))(interval);
    const watching = [...tracked.values()].filter((t) => t.state.state === 'in-flight');
    await timed(
      () =>
        read(
          [...new Set(watching.map((t) => t.workload.namespace))],
          [...new Set(watching.map((t) => t.workload.kind))],
          true,
        ),
      (ms) => (watchMs += ms),
    );
    const settled = watching.filter((t) => {
      const now = tracked.get(refKey(t.workload))?.state;
      return now?.state !== 'in-flight';
    }).length;
    // Nothing settled: look less often (rollouts take a while); something did: keep the pace.
    interval = settled > 0 ? MIN_POLL_MS : Math.min(maxInterval, Math.round(interval * 1.5));
  }

  const all = [...tracked.values()];
  const refs = (state: ConsumerState['state']) =>
    all
      .filter((t) => t.state.state === state)
      .map((t) => ({ ref: toRef(t.workload), reason: reasonOf(t.state) }));
  // First: a malformed or too distant window turns a pending consumer refused.
  const held = await windows.held(all.filter((t) => t.state.state === 'pending'));
  const pending = refs('pending');
  const inFlight = refs('in-flight');
  if (!stopped && pending.length + inFlight.length > 0 && invocations >= MAX_ADVANCE_INVOCATIONS) {
    stopped = `restarts not done after ${invocations} step invocations: given up`;
  }
  // Only held consumers left: the state machine waits (durably) until the earliest window opens.
  const waitUntil =
    !stopped && inFlight.length === 0 && held.length === pending.length && held.length > 0
      ? new Date(Math.min(...held.map((h) => h.opensAt.getTime()))).toISOString()
      : undefined;
  // Verified for this move means restarted for it (by this execution or an earlier attempt).
  const restarted = refs('verified');
  return {
    done: stopped !== undefined || pending.length + inFlight.length === 0,
    ...(stopped ? { stopped } : {}),
    invocations,
    restartMs: Math.round(restartMs),
    waveMs: Math.round(waveMs),
    waves,
    slowestWaveMs: Math.round(slowestWaveMs),
    watchMs: Math.round(watchMs),
    verified: restarted.length,
    // Only consumers that run pods show that the new value comes up (review 59).
    canaryVerified:
      canaryVerified || all.filter((t) => t.state.state === 'verified' && runsPods(t)).length >= canaryNeeded,
    inFlight: inFlight.length,
    pending: pending.length,
    restarted: capped(restarted),
    failed: capped(refs('failed')),
    refused: capped(refs('refused')),
    nextPod: capped(refs('next-pod').filter((r) => isRolloutKind(r.ref.kind))),
    laterPods: previous
      ? (previous.laterPods ?? capped([]))
      : capped(refs('next-pod').filter((r) => !isRolloutKind(r.ref.kind))),
    notRestarted: stopped ? capped(pending) : capped([]),
    ...goneSoFar(previous?.gone, gone),
    ...(held.length > 0
      ? {
          held: capped(
            held.map((h) => ({
              ref: toRef(h.workload),
              reason: `window ${h.window} opens ${h.opensAt.toISOString()}`,
            })),
          ),
        }
      : {}),
    ...(waitUntil ? { waitUntil } : {}),
  };
}

/**
 * After a wait for a restart window (up to 8 days), whether AWSCURRENT moved on meanwhile: then the
 * newer move's execution restarts the held consumers (for the newer value, which ESO already
 * holds), and this one must not restart them first, or each would restart twice (the newer move
 * sees an older marker as pending). The reason stops the restarts: the cluster fails, so nothing
 * is revoked or retired for a move that never reached its consumers.
 */
async function supersededAfterWait(
  input: { readonly secret: { readonly arn: string }; readonly versionId: string },
  deps: RestartStepDeps,
): Promise<string | undefined> {
  const { versionIdsToStages } = await deps.secrets.describeSecret(input.secret.arn);
  const current = versionWith(versionIdsToStages, 'AWSCURRENT');
  if (current === input.versionId) return undefined;
  return `AWSCURRENT moved on to ${current ?? 'another version'} while this move waited for its restart window: its consumers are left to the newer move`;
}

/** The consumers found deleted at their restart, this call's added to the earlier calls' (capped). */
function goneSoFar(earlier: CappedRefs | undefined, now: readonly Ref[]): { gone?: CappedRefs } {
  const count = (earlier?.count ?? 0) + now.length;
  if (count === 0) return {};
  const items = [
    ...(earlier?.items ?? []),
    ...now.map((ref) => ({ ref, reason: 'deleted since it was listed: not restarted' })),
  ];
  return { gone: { count, items: items.slice(0, LIST_CAP) } };
}

/** kubectl's restart patch (restartedAt on the pod template) plus our per-secret restarted marker. */
export function restartPatch(secretName: string, marker: string, restartedAt: string) {
  const annotations = { [KUBECTL_RESTARTED_AT]: restartedAt, [restartedMarkerKey(secretName)]: marker };
  return { spec: { template: { metadata: { annotations } } } };
}

/** Per namespace: the Secrets of confirmed ExternalSecrets and of unconfirmed ones. */
function namespaceSecrets(
  targets: readonly {
    namespace: string;
    name: string;
    targetSecret: string;
    secretAnnotations?: Record<string, string>;
  }[],
  confirmed: ReadonlySet<string>,
): Map<string, NamespaceSecrets> {
  const result = new Map<
    string,
    { confirmed: Set<string>; stale: Set<string>; annotations: Map<string, Record<string, string>> }
  >();
  for (const target of targets) {
    const entry = result.get(target.namespace) ?? {
      confirmed: new Set<string>(),
      stale: new Set<string>(),
      annotations: new Map<string, Record<string, string>>(),
    };
    (confirmed.has(esKey(target)) ? entry.confirmed : entry.stale).add(target.targetSecret);
    // Two ExternalSecrets writing one Secret (a conflict ESO itself reports): the first one counts.
    if (!entry.annotations.has(target.targetSecret)) {
      entry.annotations.set(target.targetSecret, target.secretAnnotations ?? {});
    }
    result.set(target.namespace, entry);
  }
  for (const [ns, entry] of result) if (entry.confirmed.size === 0) result.delete(ns);
  return result;
}

/**
 * The restart's merge patch. A workload deleted since its listing is `gone` (skipped, not a
 * failure). One the API server refuses for itself (an admission webhook or policy, RBAC on its
 * namespace, an invalid object: HTTP 400, 403 or 422) is `refused`, named with the status, while
 * the others go on; anything else (a conflict the adapter's own retries did not outlast, throttling,
 * a server error, lost credentials) fails the call, which the state machine retries.
 */
async function restart(
  cluster: ClusterPort,
  workload: Workload,
  patch: object,
): Promise<'restarted' | 'gone' | Extract<ConsumerState, { state: 'refused' }>> {
  try {
    await cluster.patchWorkload(workload, patch);
    return 'restarted';
  } catch (error) {
    if (isObjectGone(error)) return 'gone';
    if (error instanceof KubernetesCallError && REFUSALS.has(error.httpStatus)) {
      const status = `HTTP ${error.httpStatus}${error.reason ? ` ${error.reason}` : ''}`;
      return { state: 'refused', reason: `the API server refused its restart (${status})` };
    }
    throw error;
  }
}
const REFUSALS = new Set([400, 403, 422]);

/** Consumers that run pods first (a stable sort: otherwise in listing order). */
function canaryFirst(pending: readonly Tracked[]): Tracked[] {
  return [...pending].sort((a, b) => Number(runsPods(b)) - Number(runsPods(a)));
}

/** Whether the workload runs pods: one scaled to zero "rolls out" without starting any. */
function runsPods({ workload }: Tracked): boolean {
  const rollout = workload.rollout;
  if (rollout?.kind === 'DaemonSet') return (rollout.status.desiredNumberScheduled ?? 1) > 0;
  return (rollout?.spec.replicas ?? 1) > 0;
}

function reasonOf(state: ConsumerState): string {
  switch (state.state) {
    case 'failed':
    case 'refused':
    case 'next-pod':
      return state.reason;
    case 'in-flight':
      return state.rollout.message;
    default:
      return state.state;
  }
}

function toRef(w: Workload): Ref {
  return { kind: w.kind, namespace: w.namespace, name: w.name };
}
