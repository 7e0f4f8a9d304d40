import { describe, expect, it } from 'vitest';
import { workflowHarness } from '../support/workflow-harness';

/**
 * A plan too large for the workflow's state is refused before anything changes: the deployment's
 * limit is lowered to 1 KiB here (ROTATOR_MAX_PLAN_BYTES) so that five ExternalSecrets exceed it,
 * the same path a plan of thousands of ExternalSecrets takes against the default 96 KiB.
 */
const wf = workflowHarness({ restartConcurrency: 5, env: { ROTATOR_MAX_PLAN_BYTES: '1024' } });
const { fx } = wf;

describe('an oversized plan', () => {
  it('is refused with an alert; nothing is annotated or restarted and the claim is released', async () => {
    const secretId = await wf.secret('oversized');
    const namespace = await fx.namespaceWithStore('wf-big');
    const names = ['es-a', 'es-b', 'es-c', 'es-d', 'es-e'];
    for (const name of names) await fx.externalSecret(namespace, name, secretId);
    for (const name of names) await fx.externalSecretReady(namespace, name);
    await fx.consumingDeployments(namespace, 'es-a-secret', ['consumer']);
    const before = await wf.podTemplate(namespace, 'consumer');
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('oversized', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    expect(execution.states).not.toContain('Resync');
    const { entry, failed } = await wf.propagation(secretId);
    expect(entry.status).toBe('failed');
    expect(failed.join(' ')).toMatch(
      /PlanTooLargeError: The plan for cluster .* names 5 ExternalSecrets .* over the 1 KiB/,
    );
    const alerts = await wf.alertsReceived();
    const alert = alerts.find((a) => a.Subject === `Propagation failed: ${secretId}`);
    expect(alert?.Message).toContain('PlanTooLargeError');
    for (const name of names) expect(await wf.forceSync(namespace, name)).toBeUndefined();
    expect(await wf.podTemplate(namespace, 'consumer')).toEqual(before);
    // Released: another execution of the same move may claim it (and is refused the same way).
    const again = await wf.run('oversized-again', secretId, versionId);
    expect(again.states).not.toContain('AlreadyClaimed');
    expect(again.states).toContain('Plan');
  });
});
