/**
 * Fault row P (review section 4): AWSCURRENT moves again while the previous move's propagation is
 * still restarting its consumers (six Deployments, one restart at a time), once as a normal rotation
 * and once as an emergency. Then the reconcile runs until nothing is left to do, and the oracle:
 * the newest version converges and each (workload, marker) rolled out once.
 *
 * Found by this row, then fixed: the two executions restarted each other's consumers in turn, a
 * livelock (a consumer whose marker named the newer move read as `pending` to the older move,
 * which restarted it again with its own marker; the newer move then did the same, until 200
 * restart calls each). Now the older move leaves a consumer carrying a newer move's marker to that
 * move (shared/propagation/consumer-state.ts). The row keeps its guard: a pair still running after
 * 30 s is stopped as an operator would (consumers paused, then resumed for the reconcile), and it
 * asserts the whole oracle, no duplicate rollout included, and that no pair had to be stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, type RowSecret } from '../support/fault-matrix';
import { RESTARTED_AT } from '../support/workflow-harness';

// One restart at a time, so a move's restarts last a while. The step host runs one invocation at
// a time (one warm container), so each restart call looks once and returns (poll budget 0): the
// two executions' steps then take turns, as they would in separate Lambda containers.
const wf = faultHarness({
  restartConcurrency: 1,
  env: { ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: '0', ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '20' },
});
const CONSUMERS = ['api', 'worker', 'web', 'batch', 'cron', 'queue'];
const STUCK_AFTER_MS = 30_000;

/** The whole oracle: converged, no duplicate rollout, nothing lost, leaked or left claimed. */
/** How many consumers carry `versionId`'s marker, polled until at least one does (or 60 s pass). */
async function restartedFor(s: RowSecret, versionId: string): Promise<number> {
  const key = restartedMarkerKey(s.secretId);
  for (let i = 0; i < 240; i++) {
    const templates = await Promise.all(s.workloads.map((w) => wf.podTemplate(s.namespace, w)));
    const marked = templates.filter((t) => t.annotations[key]?.startsWith(`${versionId}#`)).length;
    if (marked > 0) return marked;
    await sleep(250);
  }
  return 0;
}

/**
 * Whether the two moves' restarts interleaved: a consumer restarted for `second` before the last
 * one restarted for `first` (from the ReplicaSets' pod templates: marker and restartedAt).
 */
async function interleaved(s: RowSecret, first: string, second: string): Promise<boolean> {
  const key = restartedMarkerKey(s.secretId);
  const sets = await wf.fx.admin
    .makeApiClient(AppsV1Api)
    .listNamespacedReplicaSet({ namespace: s.namespace });
  const times = (versionId: string) =>
    sets.items.flatMap((rs) => {
      const annotations = rs.spec?.template?.metadata?.annotations ?? {};
      return annotations[key]?.startsWith(`${versionId}#`)
        ? [Date.parse(annotations[RESTARTED_AT] ?? '')]
        : [];
    });
  const a = times(first);
  const b = times(second);
  return a.length > 0 && b.length > 0 && Math.min(...b) < Math.max(...a);
}

async function setPaused(s: RowSecret, paused: boolean) {
  const apps = wf.fx.admin.makeApiClient(AppsV1Api);
  for (const name of s.workloads) {
    await apps.patchNamespacedDeployment({
      namespace: s.namespace,
      name,
      body: [{ op: 'add', path: '/spec/paused', value: paused }],
    });
  }
}

describe('fault matrix, a new version during the previous one’s restarts', () => {
  it('P: the newest version converges; N leaves N+1’s consumers to N+1 (no livelock, no duplicate rollout)', async () => {
    const row = faultRow(wf, 'P', 'version N+1 while N restarts (6 consumers, one at a time)');
    const s = await row.secret('overlap', CONSUMERS);
    let overlapped = 0;
    let raced = 0;
    let stuck = 0;
    const outcomes: string[] = [];
    for (const emergency of [false, true]) {
      const first = await row.rotate(s);
      const running = row.run(s, first);
      // The next version arrives once the first move has restarted some consumers, not all.
      const marked = await restartedFor(s, first);
      const second = await row.rotate(s);
      const both = Promise.all([
        running,
        row.run(s, second, emergency ? { emergency: true, trigger: 'emergency' } : {}),
      ]);
      const finished = await Promise.race([both.then(() => true), sleep(STUCK_AFTER_MS).then(() => false)]);
      if (!finished) {
        stuck++;
        await setPaused(s, true);
      }
      const [a, b] = await both;
      if (!finished) await setPaused(s, false);
      // The fault: N+1 arrived while N had restarted some consumers and not all.
      if (marked > 0 && marked < CONSUMERS.length) overlapped++;
      // And N restarted something after N+1 had started (an emergency N+1 may finish first).
      if (await interleaved(s, first, second)) raced++;
      outcomes.push(`${a.status[0]}${b.status[0]}`);
    }
    await row.quiesce();
    row.note(
      `N+1 arrived mid-restarts of N in ${overlapped} of 2 pairs (the second an emergency), their restarts interleaved in ${raced}; ` +
        `${stuck} still restarting each other after ${STUCK_AFTER_MS / 1000} s, stopped by pausing ` +
        `the consumers; first executions ${outcomes.join(' ')} (S succeeded, F failed)`,
    );
    const result = await row.oracle();
    expect(overlapped).toBe(2);
    expect(stuck).toBe(0);
    expectOracle(result);
  }, 240_000);
});
