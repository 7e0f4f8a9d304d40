/**
 * Fault rows C, H, I, J, K, L and O (review section 4) against the real local control plane and ESO:
 * the step bundle reaches the kube-apiserver through toxiproxy (TLS passed through: the API server's
 * certificate names 127.0.0.1, where toxiproxy listens), registered as the local EKS cluster's
 * endpoint in moto, so the steps find it the production way (DescribeCluster). Each row ends with
 * the fault removed, the reconcile run until nothing is left to do, and the oracle
 * (test/support/fault-matrix.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../harness/moto-server';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import type { RotationLogger } from '../../shared/observability';
import { startPropagation } from '../../shared/workflow/start-propagation';
import type { WorkflowInput } from '../../shared/workflow/workflow-state';
import { apiServerThroughToxiproxy, faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, scaled } from '../support/fault-matrix';

/** Row J's hook: awaited before each Lambda task with its payload (none: nothing happens). */
let beforeStep: ((payload: unknown) => Promise<void>) | undefined;

const wf = faultHarness({
  restartConcurrency: 2,
  // Row L pauses ESO for longer than this.
  env: { ROTATOR_SYNC_TIMEOUT_SECONDS: '15' },
  beforeInvoke: async (_arn, payload) => {
    await beforeStep?.(payload);
  },
});

const apiProxy = apiServerThroughToxiproxy();

/** The ESO controller's pid, from the local cluster's state folder. */
function esoPid(): number {
  const stateDir = dirname(inject('kubeconfig'));
  return Number(readFileSync(join(stateDir, 'pids', 'external-secrets.pid'), 'utf8').trim());
}

/** The size of the cluster-wide ExternalSecret list, as JSON: the largest answer a step reads. */
async function externalSecretListBytes(): Promise<number> {
  const listed = await wf.fx.admin
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' });
  return Buffer.byteLength(JSON.stringify(listed));
}

/**
 * The propagation starter as deployed (start-propagation.ts): an event names a version, the
 * starter checks it is still AWSCURRENT and starts one execution (here, the row's local one).
 * Returns what the starter answered for each delivery.
 */
function localStarter(row: ReturnType<typeof faultRow>) {
  const secretsManager = new SecretsManagerClient({
    ...AWS_CLIENT_OPTIONS,
    endpoint: wf.awsCalls.proxy().endpoint,
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
  });
  const silent = { info() {}, warn() {}, error() {}, appendKeys() {} } as unknown as RotationLogger;
  const metrics: Record<string, number> = {};
  const names = new Set<string>();
  const deps = {
    managedPrefixes: [wf.prefix],
    secrets: new SecretsManagerAdapter(secretsManager),
    ledger: wf.ledger,
    starter: {
      async start(name: string, input: WorkflowInput) {
        const s = row.secrets.find((x) => input.secretId.includes(x.secretId));
        if (!s) throw new Error(`not this row's secret: ${input.secretId}`);
        // Step Functions refuses a second execution of a name.
        if (names.has(name)) return { alreadyStarted: true };
        names.add(name);
        await row.run(s, input.versionId, input);
        return { alreadyStarted: false };
      },
    },
    logger: silent,
    metrics: {
      addDimension() {},
      addMetric(name: string, _unit: string, value: number) {
        metrics[name] = (metrics[name] ?? 0) + value;
      },
    },
    now: () => new Date(),
  };
  return {
    deliver: (secretId: string, versionId: string) => startPropagation({ secretId, versionId }, deps),
    metrics,
    destroy: () => secretsManager.destroy(),
  };
}

describe('fault matrix, Kubernetes and ESO', () => {
  it('J: a consumer deleted between plan and restart (during WaitForSync): skipped, not failed', async () => {
    const row = faultRow(wf, 'J', 'consumer Deployment deleted during WaitForSync');
    const s = await row.secret('deleted', ['api', 'worker', 'web']);
    const apps = wf.fx.admin.makeApiClient(AppsV1Api);
    const victims = ['worker', 'web'];
    let deleted = 0;
    for (const victim of victims) {
      const versionId = await row.rotate(s);
      // The plan has listed the victim; the first CheckSync (after WaitForSync) of this secret's
      // propagation comes before any restart: the Deployment goes then, as a `kubectl delete` would.
      beforeStep = async (payload) => {
        const p = payload as { action?: string };
        if (p.action !== 'check-sync' || !JSON.stringify(payload).includes(s.namespace)) return;
        beforeStep = undefined;
        await apps.deleteNamespacedDeployment({ namespace: s.namespace, name: victim });
        deleted++;
      };
      try {
        const execution = await row.run(s, versionId);
        expect(deleted).toBe(victims.indexOf(victim) + 1);
        expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
      } finally {
        beforeStep = undefined;
      }
      row.forget(s, victim);
      const { restarted, failed } = await wf.propagation(s.secretId);
      row.note(
        `${victim} deleted: restarted [${restarted.map((r) => (r as { name?: string }).name ?? r).join(', ')}], ` +
          `failed ${failed.length}`,
      );
      expect(failed).toEqual([]);
    }
    // And the next rotation plans without it.
    await row.run(s, await row.rotate(s));
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(result.failures).toBe(0);
  });

  it('O: out-of-order and delayed events: the stale one is a no-op, converges on the newest', async () => {
    const row = faultRow(wf, 'O', "N's event after N+1's; N+1's again after its propagation");
    const s = await row.secret('order');
    const starter = localStarter(row);
    const alertsBefore = (await wf.alertsReceived()).length;
    try {
      for (let round = 0; round < 2; round++) {
        const n = await row.rotate(s);
        const n1 = await row.rotate(s);
        const before = await wf.podTemplate(s.namespace, 'api');
        // N+1's event first, then N's: N is no longer AWSCURRENT, so the starter ignores it.
        const newer = await starter.deliver(s.secretId, n1);
        expect(newer.ignored).toBeUndefined();
        const after = await wf.podTemplate(s.namespace, 'api');
        const older = await starter.deliver(s.secretId, n);
        expect(older.ignored).toMatch(/no longer AWSCURRENT/);
        s.superseded.add(n);
        // A delayed duplicate of N+1's event, after its propagation ended: the same execution name.
        const again = await starter.deliver(s.secretId, n1);
        expect(again.alreadyStarted).toBe(true);
        expect((await wf.podTemplate(s.namespace, 'api')).generation).toBe(after.generation);
        expect(after.generation).toBeGreaterThan(before.generation ?? 0);
      }
      row.note(
        `starter: ${starter.metrics.StalePropagationEventsIgnored ?? 0} stale events ignored, ` +
          `${starter.metrics.DuplicatePropagationsSkipped ?? 0} duplicates skipped, ` +
          `${starter.metrics.PropagationsStarted ?? 0} started`,
      );
      await row.quiesce();
      const result = await row.oracle();
      expectOracle(result);
      expect(alertsBefore).toBe(0);
      expect(result.failures).toBe(0);
      expect(result.alerts).toBe(0);
    } finally {
      starter.destroy();
    }
  });

  // Review L5, fixed (Claim returns `superseded` for a version no longer AWSCURRENT): an
  // execution whose event got through the starter while N was AWSCURRENT but whose Claim runs after
  // N+1 moved (a delayed start) ends quietly: it succeeds, restarts nothing and alerts nobody. Before
  // the fix it failed at Claim (RotationStateError, PropagationFailed) and alerted.
  it('O-late: an execution of N run after N+1 moved ends quietly: no restart, no alert, converges', async () => {
    const row = faultRow(wf, 'O-late', "N's execution started late, after N+1 moved (delayed start)");
    const s = await row.secret('late');
    const n = await row.rotate(s);
    const n1 = await row.rotate(s);
    expect((await row.run(s, n1)).status).toBe('SUCCEEDED');
    const generation = (await wf.podTemplate(s.namespace, 'api')).generation;
    const late = await row.run(s, n);
    s.superseded.add(n);
    expect((await wf.podTemplate(s.namespace, 'api')).generation).toBe(generation);
    row.note(`late execution of N: ${late.status}${late.error ? ` (${late.error.name})` : ''}, no restart`);
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect({ status: late.status, states: late.states.includes('Alert'), alerts: result.alerts }).toEqual({
      status: 'SUCCEEDED',
      states: false,
      alerts: 0,
    });
  });

  it('C: duplicate events ×5, concurrent: one execution does the work', async () => {
    const row = faultRow(wf, 'C', 'duplicate deliveries ×5, concurrent');
    const s = await row.secret('dup');
    let worked = 0;
    for (let i = 0; i < scaled(10); i++) {
      const versionId = await row.rotate(s);
      const all = await Promise.all([0, 1, 2, 3, 4].map(() => row.run(s, versionId)));
      worked += all.filter((e) => e.states.includes('Record')).length;
      expect(all.map((e) => e.status)).toEqual(Array(5).fill('SUCCEEDED'));
    }
    await row.quiesce();
    row.note(`${worked} of ${row.executions.length} executions did the work`);
    expect(worked).toBe(scaled(10));
    expectOracle(await row.oracle());
  });

  it('H: connections to the API server cut mid-response (toxiproxy limit_data): retried inside the step', async () => {
    const row = faultRow(wf, 'H', 'apiserver connections cut mid-response (limit_data ≥ 24 KiB)');
    const s = await row.secret('reset');
    // The plan lists every ExternalSecret in the cluster in one answer, which grows with the rows
    // that ran before: a connection must be able to carry it whole, or no attempt could succeed.
    const bytes = Math.max(24_576, 3 * (await externalSecretListBytes()));
    row.note(`connections cut after ${Math.round(bytes / 1024)} KiB`);
    for (let i = 0; i < scaled(20); i++) {
      // Every connection is cut once it has carried `bytes` of answers, so some answers, PATCHes
      // included, stop half-way: the change may be applied while the step sees a cut. The client
      // sends the GET or merge PATCH again on a new connection (shared/kubernetes/retrying-transport.ts).
      await apiProxy().addToxic({ name: 'cut', type: 'limit_data', attributes: { bytes } });
      const versionId = await row.rotate(s);
      const execution = await row.run(s, versionId);
      await apiProxy().reset();
      expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    }
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(result.failures).toBe(0);
  });

  it('I: API server latency 1 s ± 0.5 s: no false rollout failure', async () => {
    const row = faultRow(wf, 'I', 'apiserver latency 1 s ± 0.5 s (toxiproxy latency)');
    const s = await row.secret('slow');
    await apiProxy().addToxic({ name: 'slow', type: 'latency', attributes: { latency: 1_000, jitter: 500 } });
    try {
      for (let i = 0; i < 3; i++) {
        const versionId = await row.rotate(s);
        const execution = await row.run(s, versionId);
        expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
      }
    } finally {
      await apiProxy().reset();
    }
    await row.quiesce();
    expectOracle(await row.oracle());
  });

  it('K: a rollout that fails, then is fixed: the reconcile verifies it', async () => {
    const row = faultRow(wf, 'K', 'rollout fails (kwok fail-on-restart), then fixed');
    const s = await row.secret('rollout', ['api', 'worker'], ['worker']);
    const first = await row.run(s, await row.rotate(s));
    expect(first.status).toBe('FAILED');
    // The fix: the failing label comes off the pod template (as a deploy of a fixed image would).
    await wf.fx.admin.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      namespace: s.namespace,
      name: 'worker',
      body: [{ op: 'remove', path: '/spec/template/metadata/labels/rotator.test~1fail-on-restart' }],
    });
    await wf.fx.rolledOut([{ kind: 'Deployment', namespace: s.namespace, name: 'worker' }]);
    await row.quiesce();
    for (let i = 0; i < 4; i++) await row.run(s, await row.rotate(s));
    await row.quiesce();
    expectOracle(await row.oracle());
  });

  it('L: ESO paused (SIGSTOP) longer than the sync timeout: sync failed, no restart, alerted; converges', async () => {
    const row = faultRow(wf, 'L', 'ESO SIGSTOP 20 s (> 15 s sync timeout), SIGCONT');
    const s = await row.secret('eso');
    const pid = esoPid();
    for (let i = 0; i < 2; i++) {
      const versionId = await row.rotate(s);
      const before = await wf.podTemplate(s.namespace, 'api');
      process.kill(pid, 'SIGSTOP');
      const resume = sleep(20_000).then(() => process.kill(pid, 'SIGCONT'));
      try {
        const execution = await row.run(s, versionId);
        expect(execution.status).toBe('FAILED');
        expect((await wf.podTemplate(s.namespace, 'api')).generation).toBe(before.generation);
      } finally {
        await resume;
      }
      await row.quiesce();
    }
    expectOracle(await row.oracle());
  });
});
