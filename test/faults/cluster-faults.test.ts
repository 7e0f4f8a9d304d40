/**
 * Fault rows C, H, I, K and L (review section 4) against the real local control plane and ESO:
 * the step bundle reaches the kube-apiserver through toxiproxy (TLS passed through: the API server's
 * certificate names 127.0.0.1, where toxiproxy listens), registered as the local EKS cluster's
 * endpoint in moto, so the steps find it the production way (DescribeCluster). Each row ends with
 * the fault removed, the reconcile run until nothing is left to do, and the oracle
 * (test/support/fault-matrix.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startToxiproxy, type ToxiProxy, type Toxiproxy } from '../../scripts/faults/toxiproxy';
import { localEksCluster } from '../../scripts/local/local-eks';
import { faultRow, type RowResult } from '../support/fault-matrix';
import { workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({
  restartConcurrency: 2,
  // Row L pauses ESO for longer than this.
  env: { ROTATOR_SYNC_TIMEOUT_SECONDS: '15' },
});

let toxiproxy: Toxiproxy | undefined;
let api: ToxiProxy | undefined;
const apiProxy = () => {
  if (!api) throw new Error('toxiproxy not started');
  return api;
};

// After the harness's beforeAll (which registered the API server itself): the EKS cluster now
// reports toxiproxy's port, before the step bundle first asks.
beforeAll(async () => {
  toxiproxy = await startToxiproxy();
  const server = new URL(inject('clusterServer'));
  api = await toxiproxy.proxy('kube-apiserver', `${server.hostname}:${server.port}`);
  await localEksCluster(inject('motoEndpoint'), {
    name: inject('eksClusterName'),
    server: `https://${api.listen}`,
    caFile: inject('clusterCaFile'),
  });
});
afterAll(async () => {
  await localEksCluster(inject('motoEndpoint'), {
    name: inject('eksClusterName'),
    server: inject('clusterServer'),
    caFile: inject('clusterCaFile'),
  });
  await toxiproxy?.stop();
});

function expectOracle(result: RowResult) {
  expect(result.problems, result.problems.join('\n')).toEqual([]);
  expect(result.converged).toBe(result.secrets);
  expect(result.duplicates).toBe(0);
  expect(result.lost).toBe(0);
  expect(result.leaks).toBe(0);
  expect(result.staleClaims).toBe(0);
}

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

describe('fault matrix, Kubernetes and ESO', () => {
  it('C: duplicate events ×5, concurrent: one execution does the work', async () => {
    const row = faultRow(wf, 'C', 'duplicate deliveries ×5, concurrent');
    const s = await row.secret('dup');
    let worked = 0;
    for (let i = 0; i < 10; i++) {
      const versionId = await row.rotate(s);
      const all = await Promise.all([0, 1, 2, 3, 4].map(() => row.run(s, versionId)));
      worked += all.filter((e) => e.states.includes('Record')).length;
      expect(all.map((e) => e.status)).toEqual(Array(5).fill('SUCCEEDED'));
    }
    await row.quiesce();
    row.note(`${worked} of ${row.executions.length} executions did the work`);
    expect(worked).toBe(10);
    expectOracle(await row.oracle());
  });

  it('H: connections to the API server cut mid-response (toxiproxy limit_data): retried inside the step', async () => {
    const row = faultRow(wf, 'H', 'apiserver connections cut mid-response (limit_data ≥ 24 KiB)');
    const s = await row.secret('reset');
    // The plan lists every ExternalSecret in the cluster in one answer, which grows with the rows
    // that ran before: a connection must be able to carry it whole, or no attempt could succeed.
    const bytes = Math.max(24_576, 3 * (await externalSecretListBytes()));
    row.note(`connections cut after ${Math.round(bytes / 1024)} KiB`);
    for (let i = 0; i < 20; i++) {
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
