import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import { NOTIFY_ANNOTATION } from '../../shared/notifications/namespace-routes';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { workflowHarness } from '../support/workflow-harness';

/**
 * The synthesized state machine definition, executed locally with every Lambda Task bound to the
 * bundled propagation-step artifact against the real local cluster and ESO (see workflowHarness).
 */
const wf = workflowHarness({ restartConcurrency: 1 });
const { fx, ledger, value, rotate, run, podTemplate, consumers, alertsReceived } = wf;
const PREFIX = wf.prefix;
const VALUES = wf.values;

describe('the propagation workflow (synthesized definition, bundled steps, real cluster)', () => {
  const secretId = `${PREFIX}orders`;
  let namespace: string;
  let versionId: string;

  beforeAll(async () => {
    await createSecret(fx.aws, secretId, value());
    namespace = await consumers(secretId, ['api', 'worker']);
    await fx.workload('Deployment', namespace, 'bystander', { containers: [{ name: 'app' }] });
    // The Namespace's owners ask for their notification route: the ledger's outcome must carry it.
    await KubernetesObjectApi.makeApiClient(fx.admin).patch(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, annotations: { [NOTIFY_ANNOTATION]: 'orders-team' } },
      },
      undefined,
      undefined,
      'notify-route-test',
      undefined,
      PatchStrategy.MergePatch,
    );
    versionId = await rotate(secretId);
  }, 120_000);

  it('carries a new version through resync, restarts and rollouts, and records it with the Namespace’s notification route', async () => {
    const execution = await run('first', secretId, versionId);

    expect(execution.error, JSON.stringify(execution.failedWith)).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    for (const state of [
      'Claim',
      'Plan',
      'Resync',
      'CheckSync',
      'StartRestarts',
      'AdvanceRestarts',
      'FinishCluster',
      'Record',
      'Propagated',
    ]) {
      expect(execution.states).toContain(state);
    }
    const key = restartedMarkerKey(secretId);
    for (const name of ['api', 'worker']) {
      expect((await podTemplate(namespace, name)).annotations[key]).toBe(`${versionId}#1`);
    }
    expect((await podTemplate(namespace, 'bystander')).annotations[key]).toBeUndefined();
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(VALUES.at(-1));
    const [entry] = await ledger.history(secretId);
    expect(entry).toMatchObject({
      kind: 'propagation',
      versionId,
      status: 'succeeded',
      executionId: 'first',
    });
    const restarted = entry?.kind === 'propagation' ? entry.clusters?.[0]?.restarted : undefined;
    expect([...(restarted ?? [])].sort()).toEqual([
      `Deployment/${namespace}/api`,
      `Deployment/${namespace}/worker`,
    ]);
    expect(entry?.kind === 'propagation' && entry.clusters?.[0]?.notifyRoutes).toEqual(['orders-team']);
  });

  it('replayed three more times, the same version propagates once', async () => {
    const before = await podTemplate(namespace, 'api');
    const replays = [];
    for (const name of ['replay-1', 'replay-2', 'replay-3'])
      replays.push(await run(name, secretId, versionId));

    for (const replay of replays) {
      expect(replay.status).toBe('SUCCEEDED');
      expect(replay.states).toContain('AlreadyClaimed');
      expect(replay.states).not.toContain('AdvanceRestarts');
    }
    expect((await podTemplate(namespace, 'api')).generation).toBe(before.generation);
    const propagations = (await ledger.history(secretId)).filter((e) => e.kind === 'propagation');
    expect(propagations).toHaveLength(1);
  });

  it('two executions for a new version at once give one propagation and one restart per workload', async () => {
    const before = await Promise.all(['api', 'worker'].map((n) => podTemplate(namespace, n)));
    const next = await rotate(secretId);

    const [a, b] = await Promise.all([run('together-a', secretId, next), run('together-b', secretId, next)]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect([a, b].filter((e) => e.states.includes('Record'))).toHaveLength(1);
    expect([a, b].filter((e) => e.states.includes('AlreadyClaimed'))).toHaveLength(1);
    const after = await Promise.all(['api', 'worker'].map((n) => podTemplate(namespace, n)));
    after.forEach((template, i) => {
      expect(template.generation).toBe((before[i]?.generation ?? 0) + 1);
      expect(template.annotations[restartedMarkerKey(secretId)]).toBe(`${next}#2`);
    });
  });

  it('an emergency rotation restarts at the emergency concurrency (bounded) and retires the previous version', async () => {
    const previous = versionId;
    const next = await rotate(secretId);
    const current = await fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    const holder = Object.entries(current.VersionIdsToStages ?? {}).find(([, s]) =>
      s.includes('AWSPREVIOUS'),
    )?.[0];
    expect(holder).toBeDefined();

    const execution = await run('emergency', secretId, next, {
      emergency: true,
      retirePrevious: true,
      trigger: 'emergency',
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states).toContain('RetirePrevious');
    // The deployment's default emergency budget: raised from restartConcurrency 1, never unlimited.
    expect((execution.output as { claim: { budget: object } }).claim.budget).toEqual({
      inFlight: 100,
      percent: 100,
      canary: 0,
      bypassWindows: true,
    });
    const after = await fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(after.VersionIdsToStages?.[holder as string] ?? []).not.toContain('AWSPREVIOUS');
    expect(after.VersionIdsToStages?.[next]).toContain('AWSCURRENT');
    expect(previous).not.toBe(next);
  });
});

describe('the workflow’s failure paths', () => {
  it('a failed canary stops the restarts not begun, names them, records the failure and alerts', async () => {
    const secretId = `${PREFIX}payments`;
    await createSecret(fx.aws, secretId, value());
    const namespace = await consumers(secretId, ['a-fails', 'b-later'], ['a-fails']);
    const versionId = await rotate(secretId);

    const execution = await run('fails', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('PropagationFailed');
    expect(execution.states).toContain('Alert');
    expect(
      (await podTemplate(namespace, 'b-later')).annotations[restartedMarkerKey(secretId)],
    ).toBeUndefined();
    const [entry] = await ledger.history(secretId);
    expect(entry).toMatchObject({ kind: 'propagation', status: 'failed', versionId });
    const cluster = entry?.kind === 'propagation' ? entry.clusters?.[0] : undefined;
    expect(cluster?.failed.join(' ')).toContain(
      `the canary Deployment/${namespace}/a-fails did not roll out`,
    );
    expect(cluster?.restarted).toEqual([]);
    expect(cluster?.notRestarted).toEqual([`Deployment/${namespace}/b-later`]);
    const alerts = await alertsReceived();
    const alert = alerts.find((a) => a.Subject === `Propagation failed: ${secretId}`);
    expect(alert).toBeDefined();
    expect(alert?.Message).toContain(`Deployment/${namespace}/b-later`);
  });

  it('refuses a secret outside the managed prefixes: nothing recorded, an alert sent', async () => {
    const execution = await run('unmanaged', 'other-team/db', 'a'.repeat(36));

    expect(execution.status).toBe('FAILED');
    expect(execution.states).toEqual(
      expect.arrayContaining(['Claim', 'RecordFailure', 'Alert', 'PropagationFailed']),
    );
    expect(execution.states).not.toContain('Plan');
    expect(await ledger.history('other-team/db')).toEqual([]);
    const alerts = await alertsReceived();
    expect(alerts.some((a) => a.Message.includes('SecretNotManagedError'))).toBe(true);
  });

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.hostOutput().length).toBeGreaterThan(0);
    expect(wf.leakedValues()).toEqual([]);
  });
});
