import { describe, expect, it } from 'vitest';
import { mapWithLimit } from '../../shared/concurrency';
import { workflowHarness } from '../support/workflow-harness';

/**
 * The workflow's budget at scale, in the real cluster with ESO: one rotation whose plan holds 5,000
 * consuming Deployments (0 replicas, so the controllers, not kwok's pods, set the pace) across 10
 * namespaces. The state machine loops over calls of the restart step, never over workloads, so:
 * - state transitions per workload at most 0.2 (the issue's budget; measured here);
 * - Step Functions writes at most 5 history events per transition (a Task: entered, scheduled,
 *   started, succeeded, exited), so 10 clusters of 2,000 workloads each stay within 25,000 events
 *   when one cluster of 5,000 takes at most 500 transitions;
 * - the execution's output (every cluster's capped outcome) stays under 25.6 KiB per cluster, so 10
 *   clusters stay under Step Functions' 256 KiB.
 */
const WORKLOADS = 5000;
const NAMESPACES = 10;
const wf = workflowHarness({
  restartConcurrency: 500,
  env: { ROTATOR_RESTART_PERCENT: '100', ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '600' },
});
const { fx } = wf;

describe(`one rotation consumed by ${WORKLOADS} workloads`, () => {
  it('restarts every one within the transition, history and state budgets', async () => {
    const secretId = await wf.secret('scale');
    const namespaces = await Promise.all(
      Array.from({ length: NAMESPACES }, async () => {
        const namespace = await fx.namespaceWithStore('wf-scale');
        await fx.externalSecret(namespace, 'db', secretId);
        return namespace;
      }),
    );
    const perNamespace = WORKLOADS / NAMESPACES;
    const refs = namespaces.flatMap((namespace) =>
      Array.from({ length: perNamespace }, (_, i) => ({ namespace, name: `app-${i}` })),
    );
    await mapWithLimit(refs, 32, ({ namespace, name }) =>
      fx.workload(
        'Deployment',
        namespace,
        name,
        { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }] },
        { spec: { replicas: 0 } },
      ),
    );
    for (const namespace of namespaces) await fx.externalSecretReady(namespace, 'db');
    const versionId = await wf.rotate(secretId);

    const started = Date.now();
    const execution = await wf.run('scale', secretId, versionId);
    const seconds = (Date.now() - started) / 1000;

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { entry, restarted } = await wf.propagation(secretId);
    expect(entry.clusters?.[0]?.counts?.restarted).toBe(WORKLOADS);
    expect(restarted.length).toBeLessThanOrEqual(25);
    const transitions = execution.states.length;
    const outputBytes = Buffer.byteLength(JSON.stringify(execution.output));
    process.stdout.write(
      `[scale] ${WORKLOADS} workloads: ${transitions} state transitions (${(transitions / WORKLOADS).toFixed(3)} per workload), ` +
        `${execution.states.filter((s) => s === 'AdvanceRestarts').length} restart-step calls, output ${outputBytes} bytes, ${seconds.toFixed(1)} s\n`,
    );
    expect(transitions / WORKLOADS).toBeLessThanOrEqual(0.2);
    expect(transitions).toBeLessThanOrEqual(500);
    expect(outputBytes).toBeLessThan(25.6 * 1024);
    const sample = await wf.podTemplate(namespaces[3] ?? '', 'app-7');
    expect(sample.annotations['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  }, 900_000);
});
