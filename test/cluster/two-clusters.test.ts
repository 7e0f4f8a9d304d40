import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { localClusterBeside, workflowHarness } from '../support/workflow-harness';

/**
 * One rotation carried to two real clusters: the global one (A) and a second one started for this
 * file (B: its own control plane, kwok, ESO, EKS name and token webhook, the same RBAC and admission
 * policy). The deployment lists both; the workflow's Map runs one iteration per cluster, each with
 * its own DescribeCluster, EKS token, plan, resync and restarts.
 */
const b = localClusterBeside('local-b');
const wf = workflowHarness({ restartConcurrency: 1, extraClusters: [b] });
const a = wf.clusterName;

describe('a rotation propagated to two clusters', () => {
  it('resyncs and restarts the consumers in both, once each, and records one outcome per cluster', async () => {
    const secretId = await wf.secret('orders');
    const namespaceA = await wf.consumers(secretId, ['api', 'worker']);
    const namespaceB = await b.consumers(secretId, ['api', 'worker']);
    const before = {
      a: await Promise.all(['api', 'worker'].map((n) => wf.podTemplate(namespaceA, n))),
      b: await Promise.all(['api', 'worker'].map((n) => b.podTemplate(namespaceB, n))),
    };
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('both', secretId, versionId);

    expect(execution.error, JSON.stringify(execution.failedWith)).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    const value = wf.values.at(-1);
    expect(await wf.fx.secretValue(namespaceA, 'db-secret', 'password')).toBe(value);
    expect(await b.secretValue(namespaceB, 'db-secret', 'password')).toBe(value);
    const marker = restartedMarkerKey(secretId);
    for (const [i, name] of ['api', 'worker'].entries()) {
      const inA = await wf.podTemplate(namespaceA, name);
      const inB = await b.podTemplate(namespaceB, name);
      expect(inA.generation).toBe((before.a[i]?.generation ?? 0) + 1);
      expect(inB.generation).toBe((before.b[i]?.generation ?? 0) + 1);
      expect(inA.annotations[marker]).toBe(`${versionId}#1`);
      expect(inB.annotations[marker]).toBe(`${versionId}#1`);
    }
    const { entry } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'succeeded', versionId, executionId: 'both' });
    const byCluster = Object.fromEntries((entry.clusters ?? []).map((c) => [c.cluster, c]));
    expect(entry.clusters).toHaveLength(2);
    for (const [cluster, namespace] of [
      [a, namespaceA],
      [b.name, namespaceB],
    ] as const) {
      expect(byCluster[cluster]).toMatchObject({
        outcome: 'succeeded',
        synced: [`ExternalSecret/${namespace}/db`],
        failed: [],
      });
      expect([...(byCluster[cluster]?.restarted ?? [])].sort()).toEqual([
        `Deployment/${namespace}/api`,
        `Deployment/${namespace}/worker`,
      ]);
    }
  });

  it('a failed rollout in one cluster fails it alone: the other converges; ledger and alert name the failing one', async () => {
    const secretId = await wf.secret('payments');
    const namespaceA = await wf.consumers(secretId, ['api', 'worker']);
    const namespaceB = await b.consumers(secretId, ['a-fails', 'b-later'], ['a-fails']);
    const versionId = await wf.rotate(secretId);
    await wf.alertsReceived(); // nothing before this run counts

    const execution = await wf.run('b-fails', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('PropagationFailed');
    expect(execution.states).toContain('Alert');
    const marker = restartedMarkerKey(secretId);
    for (const name of ['api', 'worker']) {
      expect((await wf.podTemplate(namespaceA, name)).annotations[marker]).toBe(`${versionId}#1`);
    }
    await wf.fx.rolledOut(
      ['api', 'worker'].map((name) => ({ kind: 'Deployment', namespace: namespaceA, name })),
    );
    expect((await b.podTemplate(namespaceB, 'b-later')).annotations[marker]).toBeUndefined();

    const { entry } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'failed', versionId, executionId: 'b-fails' });
    const byCluster = Object.fromEntries((entry.clusters ?? []).map((c) => [c.cluster, c]));
    expect(byCluster[a]?.outcome).toBe('succeeded');
    expect([...(byCluster[a]?.restarted ?? [])].sort()).toEqual([
      `Deployment/${namespaceA}/api`,
      `Deployment/${namespaceA}/worker`,
    ]);
    expect(byCluster[b.name]?.outcome).toBe('failed');
    expect(byCluster[b.name]?.restarted).toEqual([]);
    expect(byCluster[b.name]?.failed.join(' ')).toContain(
      `the canary Deployment/${namespaceB}/a-fails did not roll out`,
    );
    expect(byCluster[b.name]?.notRestarted).toEqual([`Deployment/${namespaceB}/b-later`]);

    const alert = (await wf.alertsReceived()).find((m) => m.Subject === `Propagation failed: ${secretId}`);
    expect(alert?.Message).toContain(`${b.name}: the canary Deployment/${namespaceB}/a-fails`);
    expect(alert?.Message).toContain(`${b.name}: Deployment/${namespaceB}/b-later`);
    expect(alert?.Message).not.toContain(`${a}: `);
  });

  it('a cluster that is down fails alone: the other converges; ledger and alert name the one down', async () => {
    const secretId = await wf.secret('ledger');
    const namespaceA = await wf.consumers(secretId, ['api']);
    await b.consumers(secretId, ['api']);
    const versionId = await wf.rotate(secretId);
    await wf.alertsReceived();
    // Cluster B's API server goes away (its other components stay): the last test of this file.
    const pid = Number(readFileSync(join(b.cluster().stateDir, 'pids', 'kube-apiserver.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');

    const execution = await wf.run('b-down', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    expect((await wf.podTemplate(namespaceA, 'api')).annotations[restartedMarkerKey(secretId)]).toBe(
      `${versionId}#1`,
    );
    const { entry } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'failed', executionId: 'b-down' });
    const byCluster = Object.fromEntries((entry.clusters ?? []).map((c) => [c.cluster, c]));
    expect(byCluster[a]).toMatchObject({ outcome: 'succeeded', restarted: [`Deployment/${namespaceA}/api`] });
    expect(byCluster[b.name]).toMatchObject({ outcome: 'failed', synced: [], restarted: [] });
    // Retried as transient, then the cluster's outcome: the error that stopped it.
    expect(byCluster[b.name]?.failed.join(' ')).toMatch(/TransientError: .*ECONNREFUSED/);
    const alert = (await wf.alertsReceived()).find((m) => m.Subject === `Propagation failed: ${secretId}`);
    expect(alert?.Message).toContain(`${b.name}: TransientError`);
    expect(alert?.Message).not.toContain(`${a}: `);
  });

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.leakedValues()).toEqual([]);
  });
});
