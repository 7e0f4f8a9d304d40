import {
  ApiException,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ANNOTATIONS } from '../../shared/propagation/consumer-annotations';
import { KUBECTL_RESTARTED_AT } from '../../shared/propagation/markers';
import type { WorkloadKind } from '../../shared/propagation/workload-types';
import { clusterFixture, kubeConfigFrom } from '../support/cluster-fixture';

// infra/kubernetes/admission-policy.yaml is applied with rbac.yaml by cluster-global-setup.ts, so
// every cluster test's engine writes go through it; this file proves what it refuses.
const fx = clusterFixture();
const orchestrator = KubernetesObjectApi.makeApiClient(kubeConfigFrom(inject('rotatorKubeconfig')));
const admin = KubernetesObjectApi.makeApiClient(fx.admin);
const MARKER = 'restarted.secret-rotator.io/x-1234abcd';
/** No test rotates this secret, so no other test's plan finds these ExternalSecrets. */
const NEVER_ROTATED = 'admission-policy-test/never-rotated';
const KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
let namespace: string;

type Fragment = Record<string, unknown>;
interface Target {
  apiVersion: string;
  kind: string;
  name: string;
  namespaced?: boolean;
}

const workload = (kind: WorkloadKind): Target => ({ apiVersion: 'apps/v1', kind, name: 'app' });
const deployment = workload('Deployment');
const externalSecret: Target = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: 'db' };
const clusterExternalSecret: Target = {
  apiVersion: 'external-secrets.io/v1',
  kind: 'ClusterExternalSecret',
  name: 'db',
  namespaced: false,
};

/** A merge patch of `fragment` on `target`, by `client`. */
function mergePatch(client: KubernetesObjectApi, target: Target, fragment: Fragment) {
  const metadata = {
    name: clusterName(target),
    ...(target.namespaced === false ? {} : { namespace }),
    ...(fragment.metadata as Fragment | undefined),
  };
  const body = { apiVersion: target.apiVersion, kind: target.kind, ...fragment, metadata };
  return client.patch(
    body as KubernetesObject,
    undefined,
    undefined,
    'admission-policy-test',
    undefined,
    PatchStrategy.MergePatch,
  );
}

/** Cluster-scoped objects are named after the namespace, so parallel runs never share them. */
function clusterName(target: Target): string {
  return target.namespaced === false ? `${target.name}-${namespace}` : target.name;
}

/** The API server's refusal (status code and message), or undefined when the write passed. */
async function refusalOf(write: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  try {
    await write;
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return { code: error.code, message: typeof message === 'string' ? message : String(error.body) };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const template = (fragment: Fragment) => ({ spec: { template: fragment } });
const podSpec = (fragment: Fragment) => template({ spec: fragment });

beforeAll(async () => {
  namespace = await fx.namespaceWithStore('admission');
  for (const kind of KINDS) {
    await fx.workload(kind, namespace, 'app', {}, { annotations: { 'team.example.com/owner': 'payments' } });
  }
  await fx.workload('Deployment', namespace, 'probe', {});
  await fx.externalSecret(namespace, 'db', NEVER_ROTATED);
  await fx.create({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name: clusterName(clusterExternalSecret) },
    spec: {
      namespaceSelectors: [{ matchLabels: { 'kubernetes.io/metadata.name': 'no-such-namespace' } }],
      externalSecretSpec: {
        secretStoreRef: { name: 'aws', kind: 'SecretStore' },
        data: [{ secretKey: 'password', remoteRef: { key: NEVER_ROTATED } }],
      },
    },
  });
  // A new policy takes a moment to reach the admission plugin: wait until it refuses a label change.
  let attempt = 0;
  await fx.eventually(
    'the admission policy to refuse the orchestrator a label change',
    async () => {
      attempt += 1;
      const probe = { ...deployment, name: 'probe' };
      const write = mergePatch(orchestrator, probe, { metadata: { labels: { probe: `${attempt}` } } });
      return (await refusalOf(write)) ? true : undefined;
    },
    30_000,
  );
});

afterAll(async () => {
  await admin.delete({
    apiVersion: clusterExternalSecret.apiVersion,
    kind: clusterExternalSecret.kind,
    metadata: { name: clusterName(clusterExternalSecret) },
  });
});

describe('the admission policy (infra/kubernetes/admission-policy.yaml) in the real apiserver', () => {
  it.each(KINDS)(
    "lets the orchestrator's adapter restart a %s (restartedAt and a per-secret marker)",
    async (kind) => {
      const restartedAt = new Date().toISOString();
      await fx
        .asRotator()
        .patchWorkload(
          { kind, namespace, name: 'app' },
          template({ metadata: { annotations: { [KUBECTL_RESTARTED_AT]: restartedAt, [MARKER]: 'v1#1' } } }),
        );

      const after = (await admin.read({
        apiVersion: 'apps/v1',
        kind,
        metadata: { name: 'app', namespace },
      })) as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
      expect(after.spec.template.metadata.annotations).toMatchObject({
        [KUBECTL_RESTARTED_AT]: restartedAt,
        [MARKER]: 'v1#1',
      });
    },
  );

  it("lets the orchestrator's adapter force-sync an ExternalSecret and a ClusterExternalSecret", async () => {
    const adapter = fx.asRotator();
    const value = `v1@${new Date().toISOString()}`;

    await adapter.annotateExternalSecret(
      { kind: 'ExternalSecret', namespace, name: 'db' },
      { [ANNOTATIONS.forceSync]: value },
    );
    await adapter.annotateClusterExternalSecret(clusterName(clusterExternalSecret), {
      [ANNOTATIONS.forceSync]: value,
    });

    const after = (await admin.read({
      apiVersion: externalSecret.apiVersion,
      kind: 'ExternalSecret',
      metadata: { name: 'db', namespace },
    })) as KubernetesObject;
    expect(after.metadata?.annotations?.[ANNOTATIONS.forceSync]).toBe(value);
  });

  it.each<[string, Target, Fragment, string]>([
    ...KINDS.map((kind): [string, Target, Fragment, string] => [
      `an image change on a ${kind}`,
      workload(kind),
      podSpec({ containers: [{ name: 'app', image: 'attacker/app:1' }] }),
      'may not change the pod template spec (changed: containers)',
    ]),
    [
      'a new volume',
      deployment,
      podSpec({ volumes: [{ name: 'host', hostPath: { path: '/' } }] }),
      'may not change the pod template spec (changed: volumes)',
    ],
    [
      'a changed replicas',
      deployment,
      { spec: { replicas: 7 } },
      'may not change the workload spec outside the pod template (changed: replicas)',
    ],
    [
      'a paused rollout',
      deployment,
      { spec: { paused: true } },
      'may not change the workload spec outside the pod template (changed: paused)',
    ],
    [
      'a workload label',
      deployment,
      { metadata: { labels: { team: 'attacker' } } },
      'may not change the workload labels (changed: team)',
    ],
    [
      'a pod template label',
      deployment,
      template({ metadata: { labels: { app: 'app', extra: 'x' } } }),
      'may not change the pod template metadata other than restart annotations (changed: labels)',
    ],
    [
      'another pod template annotation',
      deployment,
      template({ metadata: { annotations: { 'sidecar.example.com/inject': 'true' } } }),
      'may change only the pod template annotations kubectl.kubernetes.io/restartedAt and restarted.secret-rotator.io/* (changed: sidecar.example.com/inject)',
    ],
    [
      "another annotation on the workload's metadata",
      deployment,
      { metadata: { annotations: { 'example.com/other': 'x' } } },
      'may not change the workload annotations (changed: example.com/other)',
    ],
    [
      "a restart marker on the workload's metadata instead of its pod template",
      deployment,
      { metadata: { annotations: { [MARKER]: 'v1#1' } } },
      `may not change the workload annotations (changed: ${MARKER})`,
    ],
    [
      'a removed workload annotation',
      deployment,
      { metadata: { annotations: { 'team.example.com/owner': null } } },
      'may not change the workload annotations (changed: team.example.com/owner)',
    ],
    [
      'an owner reference (which would let the garbage collector delete the workload)',
      deployment,
      {
        metadata: {
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'gone',
              uid: '00000000-0000-0000-0000-000000000000',
            },
          ],
        },
      },
      'may not change the workload finalizers or owner references',
    ],
    [
      'a changed remoteRef on an ExternalSecret',
      externalSecret,
      {
        spec: {
          data: [
            { secretKey: 'password', remoteRef: { key: `${NEVER_ROTATED}-other`, property: 'password' } },
          ],
        },
      },
      'may not change ExternalSecret.spec (changed: data)',
    ],
    [
      'another annotation on an ExternalSecret',
      externalSecret,
      { metadata: { annotations: { 'example.com/other': 'x' } } },
      'may change only the external-secrets.io/force-sync annotation of ExternalSecret objects (changed: example.com/other)',
    ],
    [
      'a label on an ExternalSecret',
      externalSecret,
      { metadata: { labels: { team: 'attacker' } } },
      'may not change ExternalSecret labels (changed: team)',
    ],
    [
      'a changed spec on a ClusterExternalSecret',
      clusterExternalSecret,
      { spec: { refreshTime: '5m' } },
      'may not change ClusterExternalSecret.spec (changed: refreshTime)',
    ],
  ])('refuses the orchestrator %s, and not an administrator', async (_name, target, fragment, message) => {
    const refusal = await refusalOf(mergePatch(orchestrator, target, fragment));

    expect(refusal?.code).toBe(403);
    expect(refusal?.message).toContain("ValidatingAdmissionPolicy 'secret-rotation-orchestrator-");
    expect(refusal?.message).toContain(`secret-rotation-orchestrator ${message}`);
    expect(await refusalOf(mergePatch(admin, target, fragment))).toBeUndefined();
  });
});
