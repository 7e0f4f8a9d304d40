/**
 * GitOps tools re-apply a workload's manifest from Git after the workflow restarted it. In the real
 * apiserver and controller-manager, with the real workflow's restart (a merge patch of two
 * pod-template annotations under field manager secret-rotation-orchestrator):
 * - server-side apply with force, as Argo CD (ServerSideApply=true, manager argocd-controller) and
 *   Flux (kustomize-controller) send it, never removes them, whatever the manifest's pod-template
 *   annotations are (a map, absent, `{}` or null): the generation does not move, no ReplicaSet is
 *   added, a change in Git rolls out once and keeps them;
 * - client-side `kubectl apply`, Argo CD's default sync, keeps them too, except (found here) when
 *   the manifest's pod template has `annotations: null` (an empty `annotations:` key, as templates
 *   render it), or a change in Git drops its last pod-template annotation: kubectl's three-way patch
 *   then sends `annotations: null`, which deletes the whole map, ours included, and rolls out again;
 * - a replace of the object (Argo CD's Replace=true, `kubectl replace`) drops them and rolls out.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, KubernetesObjectApi, PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL_RESTARTED_AT, restartedMarkerKey } from '../../shared/propagation/markers';
import { kubectl } from '../support/local-kubectl';
import { workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({ restartConcurrency: 3 });
const { fx } = wf;
const SECRET = 'db-secret';
const OUR_MANAGER = 'secret-rotation-orchestrator';
const objects = KubernetesObjectApi.makeApiClient(fx.admin);
const apps = fx.admin.makeApiClient(AppsV1Api);

const SCRAPE = { 'prometheus.io/scrape': 'true' };

/** Pod-template annotations in Git: a map, null (the key with no value) or undefined (no key). */
type TemplateAnnotations = object | null | undefined;

/** The Deployment as it is in Git, reading the Secret. */
function manifest(
  namespace: string,
  name: string,
  annotations: TemplateAnnotations,
  image = 'app:1',
): V1Deployment {
  const metadata = { labels: { app: name }, ...(annotations === undefined ? {} : { annotations }) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: metadata as V1Deployment['metadata'],
        spec: { containers: [{ name: 'app', image, envFrom: [{ secretRef: { name: SECRET } }] }] },
      },
    },
  };
}

/** Server-side apply with force (conflicts taken over), as Argo CD's and Flux's controllers send it. */
async function serverSideApply(object: V1Deployment, fieldManager: string): Promise<void> {
  await objects.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

/** Client-side `kubectl apply` (three-way merge against last-applied-configuration), Argo CD's default. */
function clientSideApply(object: V1Deployment): void {
  kubectl(['apply', '-f', '-'], JSON.stringify(object));
}

/**
 * Generation, pod-template annotations, which of them our field manager owns, and the ReplicaSets,
 * once the deployment controller has seen the latest generation.
 */
async function observe(namespace: string, name: string) {
  const read = await fx.eventually(`Deployment ${namespace}/${name} observed`, async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name });
    return d.status?.observedGeneration === d.metadata?.generation ? d : undefined;
  });
  const replicaSets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` });
  const ours = read.metadata?.managedFields?.find((f) => f.manager === OUR_MANAGER);
  const owned = (ours?.fieldsV1 as { 'f:spec'?: { 'f:template'?: { 'f:metadata'?: object } } } | undefined)?.[
    'f:spec'
  ]?.['f:template']?.['f:metadata'] as { 'f:annotations'?: Record<string, unknown> } | undefined;
  return {
    generation: read.metadata?.generation,
    annotations: read.spec?.template.metadata?.annotations ?? {},
    image: read.spec?.template.spec?.containers[0]?.image,
    // Without "." (the map itself, ours too when our patch created it).
    ourFields: Object.keys(owned?.['f:annotations'] ?? {})
      .filter((key) => key !== '.')
      .sort(),
    replicaSets: replicaSets.items.length,
    /** The ReplicaSets that hold the replicas: a rollout moves them. */
    active: replicaSets.items
      .filter((rs) => (rs.spec?.replicas ?? 0) > 0)
      .map((rs) => rs.metadata?.name)
      .sort(),
  };
}

const ssaArgo = (o: V1Deployment) => serverSideApply(o, 'argocd-controller');
const ssaFlux = (o: V1Deployment) => serverSideApply(o, 'kustomize-controller');
const csa = async (o: V1Deployment) => clientSideApply(o);

/** One Deployment per case, created and re-applied by `apply` from a manifest with `annotations`. */
const CASES = {
  'argocd-ssa': { apply: ssaArgo, annotations: SCRAPE },
  'flux-ssa': { apply: ssaFlux, annotations: SCRAPE },
  'argocd-csa': { apply: csa, annotations: SCRAPE },
  'argocd-ssa-null': { apply: ssaArgo, annotations: null },
  'flux-ssa-null': { apply: ssaFlux, annotations: null },
  'argocd-csa-none': { apply: csa, annotations: undefined },
  'argocd-csa-empty': { apply: csa, annotations: {} },
  'argocd-csa-null': { apply: csa, annotations: null },
} as const;
type Case = keyof typeof CASES;
const NAMES = Object.keys(CASES) as Case[];

describe('a re-apply of the workload’s manifest after the workflow restarted it', () => {
  let secretId: string;
  let namespace: string;
  let versionId: string;
  const restarted: Record<string, Awaited<ReturnType<typeof observe>>> = {};
  const apply = (name: Case, change: { image?: string; annotations?: TemplateAnnotations } = {}) =>
    CASES[name].apply(
      manifest(
        namespace,
        name,
        'annotations' in change ? change.annotations : CASES[name].annotations,
        change.image,
      ),
    );

  beforeAll(async () => {
    secretId = await wf.secret(`gitops-${randomUUID().slice(0, 4)}`);
    namespace = await fx.namespaceWithStore('wf-gitops');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    // Each created by its tool, as the first sync from Git does.
    for (const name of NAMES) await apply(name);
    const refs = NAMES.map((name) => ({ kind: 'Deployment', namespace, name }) as const);
    await fx.rolledOut([...refs]);
    for (const name of NAMES) expect((await observe(namespace, name)).replicaSets).toBe(1);
    versionId = await wf.rotate(secretId);

    const execution = await wf.run('gitops', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    expect([...(await wf.propagation(secretId)).restarted].sort()).toEqual(
      NAMES.map((name) => `Deployment/${namespace}/${name}`).sort(),
    );
    await fx.rolledOut([...refs]);
    for (const name of NAMES) restarted[name] = await observe(namespace, name);
  }, 180_000);

  it('finds our two annotations on each, owned by our field manager, after one rollout', () => {
    const marker = restartedMarkerKey(secretId);
    for (const name of NAMES) {
      const state = restarted[name];
      expect(state?.annotations, name).toEqual({
        ...(CASES[name].annotations ?? {}),
        [marker]: `${versionId}#1`,
        [KUBECTL_RESTARTED_AT]: expect.any(String),
      });
      expect(state?.ourFields, name).toEqual([`f:${KUBECTL_RESTARTED_AT}`, `f:${marker}`].sort());
      expect(state?.replicaSets, name).toBe(2);
    }
  });

  it.each(NAMES.filter((name) => name !== 'argocd-csa-null'))(
    'keeps them, and starts no rollout, when %s applies the same manifest again',
    async (name) => {
      await apply(name);
      await sleep(2000); // time for a rollout to start, were one due

      expect(await observe(namespace, name)).toEqual(restarted[name]);
    },
  );

  it('keeps them through a change in Git, which rolls out once', async () => {
    const name = 'argocd-ssa';
    const before = await observe(namespace, name);

    await apply(name, { image: 'app:2' });

    const after = await observe(namespace, name);
    expect(after.generation).toBe((before.generation ?? 0) + 1);
    expect(after.image).toBe('app:2');
    expect(after.annotations).toEqual(before.annotations);
    expect(after.ourFields).toEqual(before.ourFields);
    expect(after.replicaSets).toBe(before.replicaSets + 1);
    await fx.rolledOut([{ kind: 'Deployment', namespace, name }]);
    expect((await observe(namespace, name)).active).not.toEqual(before.active);
  });

  it('FINDING: loses them, and rolls out again, when kubectl apply (client-side) sends annotations: null', async () => {
    const name = 'argocd-csa-null';
    const before = await observe(namespace, name);

    await apply(name);

    await fx.rolledOut([{ kind: 'Deployment', namespace, name }]);
    const after = await observe(namespace, name);
    expect(after.generation).toBe((before.generation ?? 0) + 1);
    expect(after.annotations).toEqual({});
    expect(after.ourFields).toEqual([]);
    // The template is the first one again: its ReplicaSet is scaled back up.
    expect(after.active).not.toEqual(before.active);
  });

  it('FINDING: loses them when a change in Git drops the last pod-template annotation (client-side apply)', async () => {
    const name = 'argocd-csa';
    const before = await observe(namespace, name);

    await apply(name, { annotations: undefined });

    const after = await observe(namespace, name);
    expect(after.generation).toBe((before.generation ?? 0) + 1);
    expect(after.annotations).toEqual({});
    expect(after.ourFields).toEqual([]);
  });

  it('keeps them when the same change in Git is applied server-side', async () => {
    const name = 'flux-ssa';
    const before = await observe(namespace, name);

    await apply(name, { annotations: undefined });

    const after = await observe(namespace, name);
    expect(after.generation).toBe((before.generation ?? 0) + 1);
    const { 'prometheus.io/scrape': _dropped, ...ours } = before.annotations;
    expect(after.annotations).toEqual(ours);
    expect(after.ourFields).toEqual(before.ourFields);
  });

  it('loses them, and rolls out again, when the object is replaced (Argo CD Replace=true)', async () => {
    const name = 'argocd-ssa-null';
    const before = await observe(namespace, name);

    await objects.replace(manifest(namespace, name, null));

    await fx.rolledOut([{ kind: 'Deployment', namespace, name }]);
    const after = await observe(namespace, name);
    expect(after.generation).toBe((before.generation ?? 0) + 1);
    expect(after.annotations).toEqual({});
    expect(after.ourFields).toEqual([]);
    expect(after.active).not.toEqual(before.active);
  });
});

it('never lets a secret value reach the steps’ logs', () => {
  expect(wf.leakedValues()).toEqual([]);
});
