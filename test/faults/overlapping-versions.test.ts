/**
 * Fault row P (review section 4): AWSCURRENT moves again while the previous move's propagation is
 * still restarting its consumers (six Deployments, one restart at a time), once as a normal rotation
 * and once as an emergency. Then the reconcile runs until nothing is left to do, and the oracle:
 * the newest version converges and each (workload, marker) rolled out once.
 *
 * Known defect (found by this row): the two executions restart each other's consumers in turn, a
 * livelock. A consumer whose marker names the newer move reads as `pending` to the older move
 * (shared/propagation/consumer-state.ts compares the marker for equality only), which restarts it
 * again with its own marker; the newer move then finds its marker gone and does the same. Left
 * alone it lasts until MAX_ADVANCE_INVOCATIONS (200 restart calls per execution), then both fail.
 * Here a pair still running after 30 s is stopped as an operator would stop it (the consumers
 * paused, so both executions end with the consumers refused, alerted), then resumed for the
 * reconcile. The row asserts the defect (duplicate rollouts, everything else of the oracle clean),
 * so the tier stays green while it stands and turns red once the older move leaves a newer move's
 * consumers alone: then assert the whole oracle (expectOracle) instead.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { faultRow, type RowResult, type RowSecret } from '../support/fault-matrix';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

// One restart at a time, so a move's restarts last a while. The step host runs one invocation at
// a time (one warm container), so each restart call looks once and returns (poll budget 0): the
// two executions' steps then take turns, as they would in separate Lambda containers.
const wf = workflowHarness({
  restartConcurrency: 1,
  env: { ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: '0', ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '20' },
});
const CONSUMERS = ['api', 'worker', 'web', 'batch', 'cron', 'queue'];
const STUCK_AFTER_MS = 30_000;

/** The oracle with the known defect allowed for: duplicate rollouts, and nothing else wrong. */
function expectOracleButDuplicates(result: RowResult) {
  const others = result.problems.filter((p) => !/ rollouts for /.test(p));
  expect(others, others.join('\n')).toEqual([]);
  expect(result.converged).toBe(result.secrets);
  expect(result.lost).toBe(0);
  expect(result.leaks).toBe(0);
  expect(result.staleClaims).toBe(0);
  // Known defect (see the top of this file). Once fixed this fails: expect 0 here.
  expect(result.duplicates).toBeGreaterThan(0);
}

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
  it('P: the newest version converges; today N and N+1 restart each other (known livelock)', async () => {
    const row = faultRow(wf, 'P', 'version N+1 while N restarts (6 consumers, one at a time)');
    const s = await row.secret('overlap', CONSUMERS);
    let overlapped = 0;
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
      if (marked > 0 && marked < CONSUMERS.length && (await interleaved(s, first, second))) overlapped++;
      outcomes.push(`${a.status[0]}${b.status[0]}`);
    }
    await row.quiesce();
    row.note(
      `restarts of N and N+1 interleaved in ${overlapped} of 2 pairs (the second an emergency); ` +
        `${stuck} still restarting each other after ${STUCK_AFTER_MS / 1000} s, stopped by pausing ` +
        `the consumers; first executions ${outcomes.join(' ')} (S succeeded, F failed)`,
    );
    const result = await row.oracle();
    expect(overlapped).toBe(2);
    expectOracleButDuplicates(result);
  }, 240_000);
});
