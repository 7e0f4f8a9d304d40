import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalExecution } from '../../harness/local-workflow';
import { ANNOTATIONS } from '../../shared/propagation/consumer-annotations';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

/**
 * Restart windows end to end: the synthesized state machine (aws-local-stepfunctions, its Wait
 * state with TimestampPath as defined: the harness shortens only the sync and rollout polls), the
 * bundled step, the real control plane with ESO and kwok, the ledger in moto. A workload whose
 * window opens 20-80 s from now is held (its pod template untouched, the ledger showing the wait)
 * while its neighbour without a window restarts at once, and restarts when the window opens; so is
 * a workload without an annotation in a second namespace whose Namespace carries the same window
 * (read by the step as the orchestrator's identity, under infra/kubernetes/rbac.yaml); an
 * emergency restarts a windowed workload at once.
 */
const wf = workflowHarness({ restartConcurrency: 2 });
const { fx, ledger, run, podTemplate } = wf;

const MINUTE = 60_000;
const hhmm = (t: Date) => t.toISOString().slice(11, 16);
/** A daily UTC window from `opens` (a whole minute) for `minutes`. */
const dailyWindow = (opens: Date, minutes: number) =>
  `daily ${hhmm(opens)}-${hhmm(new Date(opens.getTime() + minutes * MINUTE))} UTC`;
const inHours = (hours: number) => new Date(Math.ceil((Date.now() + hours * 3_600_000) / MINUTE) * MINUTE);

async function consumers(secretId: string, workloads: Record<string, string | undefined>, prefix = 'window') {
  const namespace = await fx.namespaceWithStore(prefix);
  await fx.externalSecret(namespace, 'db', secretId);
  await fx.externalSecretReady(namespace, 'db');
  for (const [name, window] of Object.entries(workloads)) {
    await fx.workload(
      'Deployment',
      namespace,
      name,
      { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }] },
      window ? { annotations: { [ANNOTATIONS.restartWindow]: window } } : {},
    );
  }
  await fx.rolledOut(Object.keys(workloads).map((name) => ({ kind: 'Deployment', namespace, name })));
  return namespace;
}

describe('restart windows (synthesized workflow, real cluster)', () => {
  let windowed: { secretId: string; versionId: string; namespace: string; tenants: string };
  let opens: Date;
  let execution: Promise<LocalExecution>;
  let startedAt: number;
  /** The held Deployment's generation once its window is set (an annotation change counts). */
  let heldGeneration: number | undefined;

  beforeAll(async () => {
    const secretId = await wf.secret('nightly');
    // Created closed (it opens in 6 hours), then set, just before the run, to open shortly.
    const namespace = await consumers(secretId, { free: undefined, nightly: dailyWindow(inHours(6), 60) });
    // A second namespace whose owners set the window on the Namespace; its workload has none.
    const tenants = await consumers(secretId, { tenant: undefined }, 'tenants');
    const versionId = await wf.rotate(secretId);
    windowed = { secretId, versionId, namespace, tenants };
    // The next whole minute at least 20 s away: the window opens 20-80 s from now.
    opens = new Date(Math.ceil((Date.now() + 20_000) / MINUTE) * MINUTE);
    await annotate(namespace, 'nightly', dailyWindow(opens, 5));
    await annotate(undefined, tenants, dailyWindow(opens, 5));
    heldGeneration = (await podTemplate(namespace, 'nightly')).generation;
    startedAt = Date.now();
    execution = run('windowed', secretId, versionId);
  }, 120_000);

  it('restarts the workload without a window at once, holds the windowed ones (own or Namespace annotation) and shows the wait in the ledger', async () => {
    const entry = await fx.eventually('the ledger to show the wait', async () => {
      const [latest] = await ledger.history(windowed.secretId);
      return latest?.kind === 'propagation' && latest.windowWait ? latest : undefined;
    });

    expect(Date.now()).toBeLessThan(opens.getTime());
    expect(entry).toMatchObject({
      status: 'in-progress',
      executionId: 'windowed',
      windowWait: { cluster: wf.clusterName, until: opens.toISOString(), held: 2 },
    });
    const key = restartedMarkerKey(windowed.secretId);
    expect((await podTemplate(windowed.namespace, 'free')).annotations[key]).toBe(`${windowed.versionId}#1`);
    const held = await podTemplate(windowed.namespace, 'nightly');
    expect(held.annotations[key]).toBeUndefined();
    expect(held.annotations[RESTARTED_AT]).toBeUndefined();
    expect(held.generation).toBe(heldGeneration);
    const tenant = await podTemplate(windowed.tenants, 'tenant');
    expect(tenant.annotations[key]).toBeUndefined();
    expect(tenant.annotations[RESTARTED_AT]).toBeUndefined();
  });

  it('an emergency restarts a windowed workload at once (while the other execution waits)', async () => {
    const secretId = await wf.secret('urgent');
    // Closed now: it opens in 6 hours.
    const namespace = await consumers(secretId, { api: dailyWindow(inHours(6), 60) });
    const versionId = await wf.rotate(secretId);

    const urgent = await run('urgent', secretId, versionId, { emergency: true, trigger: 'emergency' });

    expect(urgent.status).toBe('SUCCEEDED');
    expect(urgent.states).not.toContain('WaitForWindow');
    expect((await podTemplate(namespace, 'api')).annotations[restartedMarkerKey(secretId)]).toBe(
      `${versionId}#1`,
    );
    expect(Date.now()).toBeLessThan(opens.getTime());
  }, 60_000);

  it('restarts the held workload once its window opens, and the propagation succeeds', async () => {
    const done = await execution;

    expect(done.error, JSON.stringify(done.failedWith)).toBeUndefined();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.states.filter((s) => s === 'WaitForWindow')).toHaveLength(1);
    const held = await podTemplate(windowed.namespace, 'nightly');
    expect(held.annotations[restartedMarkerKey(windowed.secretId)]).toBe(`${windowed.versionId}#1`);
    expect(Date.parse(held.annotations[RESTARTED_AT] ?? '')).toBeGreaterThanOrEqual(opens.getTime());
    const tenant = await podTemplate(windowed.tenants, 'tenant');
    expect(tenant.annotations[restartedMarkerKey(windowed.secretId)]).toBe(`${windowed.versionId}#1`);
    expect(Date.parse(tenant.annotations[RESTARTED_AT] ?? '')).toBeGreaterThanOrEqual(opens.getTime());
    const [entry] = await ledger.history(windowed.secretId);
    expect(entry).toMatchObject({ kind: 'propagation', status: 'succeeded', executionId: 'windowed' });
    const restarted = entry?.kind === 'propagation' ? entry.clusters?.[0]?.restarted : [];
    expect([...(restarted ?? [])].sort()).toEqual(
      [
        `Deployment/${windowed.namespace}/free`,
        `Deployment/${windowed.namespace}/nightly`,
        `Deployment/${windowed.tenants}/tenant`,
      ].sort(),
    );
    process.stderr.write(
      `[restart-window] window opened ${Math.round((opens.getTime() - startedAt) / 1000)} s after the start; execution took ${Math.round((Date.now() - startedAt) / 1000)} s\n`,
    );
  }, 120_000);

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.leakedValues()).toEqual([]);
  });
});

/**
 * Sets the restart window (a merge patch of its metadata) of a Deployment, or of the Namespace
 * `name` when `namespace` is undefined, as its owner would.
 */
async function annotate(namespace: string | undefined, name: string, window: string) {
  const annotations = { [ANNOTATIONS.restartWindow]: window };
  await KubernetesObjectApi.makeApiClient(fx.admin).patch(
    namespace === undefined
      ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } }
      : { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, annotations } },
    undefined,
    undefined,
    'restart-window-test',
    undefined,
    PatchStrategy.MergePatch,
  );
}
