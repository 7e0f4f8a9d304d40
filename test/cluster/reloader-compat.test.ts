/**
 * Reloader's opt-out, honoured by the deployed workflow: of two Deployments that read the same
 * Secret, the one annotated `reloader.stakater.com/auto: "false"` (as a team migrating from
 * Reloader has it) is left alone while its sibling is restarted; the plan says why. And what
 * `targetSecretAnnotations` reads (the ExternalSecret's target template) is what the real ESO
 * writes on the Secret, where Reloader reads `ignore` and `match`.
 */
import { describe, expect, it } from 'vitest';
import { RELOADER_ANNOTATIONS, targetSecretAnnotations } from '../../shared/propagation/consumer-annotations';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({ restartConcurrency: 2 });
const { fx } = wf;
const SECRET = 'db-secret';
const reads = { containers: [{ name: 'app', envFrom: [{ secretRef: { name: SECRET } }] }] };

describe('a workload annotated reloader.stakater.com/auto: "false"', () => {
  it('is not restarted while its sibling, reading the same Secret, is', async () => {
    const secretId = await wf.secret('reloader-auto-false');
    const namespace = await fx.namespaceWithStore('wf-reloader');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    await fx.workload('Deployment', namespace, 'opted-out', reads, {
      annotations: { [RELOADER_ANNOTATIONS.auto]: 'false' },
    });
    await fx.workload('Deployment', namespace, 'sibling', reads);
    const refs: Parameters<typeof fx.rolledOut>[0] = ['opted-out', 'sibling'].map((name) => ({
      kind: 'Deployment',
      namespace,
      name,
    }));
    await fx.rolledOut(refs);
    const before = await Promise.all(refs.map((r) => wf.podTemplate(namespace, r.name)));
    const { secret, versionId: current } = await fx.rotatedSecret(secretId);
    const plan = await planPropagation(fx.asRotator(), secret, current);
    const target = plan.resync.find((t) => t.affected.externalSecret.namespace === namespace);
    expect(target?.consumers.map((c) => c.workload.name)).toEqual(['sibling']);
    expect(target?.skipped.map((s) => [s.workload.name, s.why])).toEqual([
      ['opted-out', 'annotated reloader.stakater.com/auto=false'],
    ]);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('reloader-auto-false', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    expect(await fx.secretValue(namespace, SECRET, 'password')).toBe(wf.values.at(-1));
    const { entry, restarted } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'succeeded', versionId });
    expect(restarted).toEqual([`Deployment/${namespace}/sibling`]);
    const [optedOut, sibling] = await Promise.all(refs.map((r) => wf.podTemplate(namespace, r.name)));
    expect(optedOut).toEqual(before[0]);
    expect(optedOut?.annotations[RESTARTED_AT]).toBeUndefined();
    expect(sibling?.generation).toBe((before[1]?.generation ?? 0) + 1);
    expect(sibling?.annotations[restartedMarkerKey(secretId)]).toBe(`${versionId}#1`);
    await fx.rolledOut(refs);
  });
});

describe('Reloader’s Secret-side annotations (ignore, match) under ESO', () => {
  it('are those of the ExternalSecret’s target template, which ESO writes on the Secret', async () => {
    const secretId = await wf.secret('reloader-template');
    const namespace = await fx.namespaceWithStore('wf-reloader-tpl');
    const annotations = { [RELOADER_ANNOTATIONS.ignore]: 'true', [RELOADER_ANNOTATIONS.match]: 'true' };
    await fx.externalSecret(namespace, 'db', secretId, {
      target: { name: SECRET, template: { metadata: { annotations } } },
    });
    await fx.externalSecretReady(namespace, 'db');

    const listed = (await fx.asRotator().listExternalSecrets()).find((es) => es.namespace === namespace);

    expect(targetSecretAnnotations(listed?.spec)).toEqual(annotations);
    const written = await fx.core.readNamespacedSecret({ namespace, name: SECRET });
    expect(written.metadata?.annotations).toMatchObject(annotations);
  });
});

describe('Reloader’s ignore and match on the Secret, in the deployed workflow', () => {
  it('skips every workload for an ignored Secret and restarts a search-mode workload only for a matched one', async () => {
    const secretId = await wf.secret('reloader-secret-side');
    const setUp = async (
      prefix: string,
      secretAnnotations: Record<string, string>,
      workload: Record<string, string>,
    ) => {
      const namespace = await fx.namespaceWithStore(prefix);
      await fx.externalSecret(namespace, 'db', secretId, {
        target: { name: SECRET, template: { metadata: { annotations: secretAnnotations } } },
      });
      await fx.externalSecretReady(namespace, 'db');
      await fx.workload('Deployment', namespace, 'app', reads, { annotations: workload });
      await fx.rolledOut([{ kind: 'Deployment', namespace, name: 'app' }]);
      return namespace;
    };
    const ignored = await setUp(
      'wf-rl-ignore',
      { [RELOADER_ANNOTATIONS.ignore]: 'true' },
      {
        [RELOADER_ANNOTATIONS.auto]: 'true',
      },
    );
    const matched = await setUp(
      'wf-rl-match',
      { [RELOADER_ANNOTATIONS.match]: 'true' },
      {
        [RELOADER_ANNOTATIONS.search]: 'true',
      },
    );
    const unmatched = await setUp('wf-rl-nomatch', {}, { [RELOADER_ANNOTATIONS.search]: 'true' });
    const before = await Promise.all([ignored, matched, unmatched].map((ns) => wf.podTemplate(ns, 'app')));
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('reloader-secret-side', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { restarted, synced } = await wf.propagation(secretId);
    expect(synced).toHaveLength(3);
    expect(restarted).toEqual([`Deployment/${matched}/app`]);
    const after = await Promise.all([ignored, matched, unmatched].map((ns) => wf.podTemplate(ns, 'app')));
    expect(after[0]).toEqual(before[0]);
    expect(after[1]?.generation).toBe((before[1]?.generation ?? 0) + 1);
    expect(after[2]).toEqual(before[2]);
  });
});

it('never lets a secret value reach the steps’ logs', () => {
  expect(wf.hostOutput().length).toBeGreaterThan(0);
  expect(wf.leakedValues()).toEqual([]);
});
