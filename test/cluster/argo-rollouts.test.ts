/**
 * Argo Rollouts as consumers, with the real Argo Rollouts controller (v1.9.0, built from its Go
 * module by scripts/cluster/build-argo-rollouts.sh, run out of cluster against the local control
 * plane; kwok runs the pods it creates) and the deployed workflow (workflowHarness). A Rollout is
 * restarted with spec.restartAt, as `kubectl argo rollouts restart` does: the controller evicts its
 * pods and reports status.restartedAt; no new revision, so a canary's steps (here: a pause that
 * would hold any new revision forever) never run. Also: the RBAC manifest's rollouts rules in the
 * real apiserver, and a cluster without Argo Rollouts (the CRD's 404 is no Rollouts).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { answersOk, waitUntilReady } from '../../harness/child-readiness';
import { startOnFreePorts } from '../../harness/free-port';
import { stopChild } from '../../harness/process-cleanup';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { refKey } from '../../shared/propagation/object-ref';
import { kubeConfigFrom } from '../support/cluster-fixture';
import { kubectl } from '../support/local-kubectl';
import { workflowHarness } from '../support/workflow-harness';

const BUILD = fileURLToPath(new URL('../../scripts/cluster/build-argo-rollouts.sh', import.meta.url));
const STATE = dirname(inject('kubeconfig'));
const PID_FILE = join(STATE, 'pids', 'argo-rollouts.pid');
const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
const SECRET = 'db-secret';
const reads = { containers: [{ name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: SECRET } }] }] };

// A failed restart shows within the test: the rollout timeout (from restartAt) is 20 s here.
const wf = workflowHarness({ restartConcurrency: 2, env: { ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '20' } });
const { fx } = wf;
const custom = fx.admin.makeApiClient(CustomObjectsApi);
const rotator = kubeConfigFrom(inject('rotatorKubeconfig')).makeApiClient(CustomObjectsApi);
let controller: ChildProcess | undefined;
let crdsInstalled = false;

interface RolloutJson {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { restartAt?: string; template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: { restartedAt?: string; currentPodHash?: string; phase?: string; message?: string };
}

const readRollout = async (namespace: string, name: string) =>
  (await custom.getNamespacedCustomObject({ ...ROLLOUTS, namespace, name })) as RolloutJson;

/** A Rollout reading the Secret: canary with a pause step, so a new revision would never finish. */
function rolloutManifest(namespace: string, name: string, template: object) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
      ...template,
    },
  };
}

function rollout(namespace: string, name: string, template: object) {
  return fx.create(rolloutManifest(namespace, name, template));
}

const podTemplate = (app: string) => ({ metadata: { labels: { app } }, spec: reads });

/** Pods of a Rollout's ReplicaSets: the hash each runs and when it was created. */
async function pods(namespace: string, app: string) {
  const list = await fx.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => ({
      hash: p.metadata?.labels?.['rollouts-pod-template-hash'],
      created: p.metadata?.creationTimestamp?.getTime() ?? 0,
    }));
}

const MARKER = 'restarted.secret-rotator.io/x-1234abcd';
let policyTarget: Promise<string> | undefined;

/** One namespace with a Rollout `app` for the admission policy cases (never restarted). */
function policyNamespace(): Promise<string> {
  policyTarget ??= (async () => {
    const namespace = await fx.namespaceWithStore('argo-policy');
    await rollout(namespace, 'app', { template: podTemplate('app') });
    // Settled: the controller's own first writes (revision annotation, defaults) are done.
    await fx.rolledOut([{ kind: 'Rollout', namespace, name: 'app' }]);
    return namespace;
  })();
  return policyTarget;
}

async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe('a cluster without Argo Rollouts', () => {
  it('lists no Rollouts: the list’s 404 (no CRD, RBAC allows it) is not an error', async () => {
    const namespace = await fx.namespaceWithStore('argo-none');
    await fx.workload('Deployment', namespace, 'api', {});

    expect(await statusOf(() => rotator.listNamespacedCustomObject({ ...ROLLOUTS, namespace }))).toBe(404);
    const workloads = await fx.asRotator().listWorkloads(namespace);
    expect(workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/api']);
  });
});

describe('Argo Rollouts as consumers (real controller)', () => {
  beforeAll(async () => {
    // The module's CRDs: the controller watches Rollouts, AnalysisRuns, Experiments and templates.
    const crds = execFileSync('bash', [BUILD, 'crds'], { encoding: 'utf8' }).trim();
    for (const file of readdirSync(crds).filter((f) => f.endsWith('-crd.yaml'))) {
      kubectl(['apply', '--server-side', '-f', join(crds, file)]);
    }
    // kubectl wait fails outright while the CRD has no conditions yet: polled, as up.sh does.
    await fx.eventually('the Rollout CRD to be established', async () => {
      try {
        kubectl(['wait', '--for=condition=Established', 'crd/rollouts.argoproj.io', '--timeout=1s']);
        return true;
      } catch {
        return undefined;
      }
    });
    crdsInstalled = true;
    // Built on first use (about 5 min cold on 2 cores), cached after: see docs/argo-rollouts.md.
    const binary = execFileSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .at(-1) as string;
    // Its log and pid file beside the cluster's components': down.sh stops it with them, also
    // when this process is interrupted.
    const log = createWriteStream(join(STATE, 'logs', 'argo-rollouts.log'));
    // Ready when its health endpoint answers from its own socket: it logs a lost health or
    // metrics port and runs on, so a health port another process took first never becomes its
    // own (then it is started again on new ports). Set at spawn, so afterAll stops one still
    // starting when the set-up's timeout ends it.
    await startOnFreePorts('the Argo Rollouts controller', 2, async ([healthz, metrics]) => {
      const args = ['--kubeconfig', inject('kubeconfig'), '--leader-elect=false', '--loglevel', 'warn'];
      args.push('--healthzPort', String(healthz), '--metricsPort', String(metrics));
      const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      controller = started;
      started.stdout?.pipe(log, { end: false });
      started.stderr?.pipe(log, { end: false });
      writeFileSync(PID_FILE, `${started.pid}\n`);
      try {
        const healthy = answersOk(`http://127.0.0.1:${healthz}/healthz`);
        const what = `the controller (${STATE}/logs/argo-rollouts.log)`;
        await waitUntilReady(what, started, healthy, 30_000, healthz);
      } catch (error) {
        await stopChild(started, 0);
        throw error;
      }
    });
  }, 600_000);
  afterAll(async () => {
    if (controller) await stopChild(controller, 5_000);
    rmSync(PID_FILE, { force: true });
  });

  it('grants the orchestrator get, list and patch on Rollouts and nothing more (403s)', async () => {
    expect(crdsInstalled).toBe(true);
    const namespace = await fx.namespaceWithStore('argo-rbac');
    await rollout(namespace, 'app', { template: podTemplate('app') });
    // What the engine writes (restartAt, a marker): allowed by RBAC and the admission policy.
    const restart = {
      metadata: { annotations: { [MARKER]: 'v#1' } },
      spec: { restartAt: '2026-01-01T00:00:00Z' },
    };
    const merge = { body: { metadata: { annotations: { [MARKER]: 'v#2' } } } };
    const asMerge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const analysis = { ...ROLLOUTS, plural: 'analysisruns' };

    const allowed = {
      list: await statusOf(() => rotator.listNamespacedCustomObject({ ...ROLLOUTS, namespace })),
      get: await statusOf(() => rotator.getNamespacedCustomObject({ ...ROLLOUTS, namespace, name: 'app' })),
      patch: await statusOf(() =>
        rotator.patchNamespacedCustomObject({ ...ROLLOUTS, namespace, name: 'app', body: restart }, asMerge),
      ),
    };
    const denied = {
      create: await statusOf(() =>
        rotator.createNamespacedCustomObject({ ...ROLLOUTS, namespace, body: { metadata: { name: 'x' } } }),
      ),
      delete: await statusOf(() =>
        rotator.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace, name: 'app' }),
      ),
      replace: await statusOf(async () =>
        rotator.replaceNamespacedCustomObject({
          ...ROLLOUTS,
          namespace,
          name: 'app',
          body: await custom.getNamespacedCustomObject({ ...ROLLOUTS, namespace, name: 'app' }),
        }),
      ),
      status: await statusOf(() =>
        rotator.patchNamespacedCustomObjectStatus({ ...ROLLOUTS, namespace, name: 'app', ...merge }, asMerge),
      ),
      analysisRuns: await statusOf(() => rotator.listNamespacedCustomObject({ ...analysis, namespace })),
    };

    expect(allowed).toEqual({ list: 200, get: 200, patch: 200 });
    expect(denied).toEqual({ create: 403, delete: 403, replace: 403, status: 403, analysisRuns: 403 });
  });

  // infra/kubernetes/admission-policy.yaml (applied by the global set-up): patch right on a Rollout,
  // narrowed to what a restart writes.
  it.each<[string, object]>([
    ['its pod template (a new revision)', { spec: { template: { metadata: { annotations: { a: 'b' } } } } }],
    ['its replicas', { spec: { replicas: 5 } }],
    ['its strategy', { spec: { strategy: { canary: { steps: [] } } } }],
    ['spec.paused (pausing it)', { spec: { paused: true } }],
    ['another annotation', { metadata: { annotations: { 'example.com/x': 'y' } } }],
    ['its labels', { metadata: { labels: { a: 'b' } } }],
  ])('refuses the orchestrator a patch of %s (admission policy, 403)', async (_name, body) => {
    const namespace = await policyNamespace();
    const before = await readRollout(namespace, 'app');

    const status = await statusOf(() =>
      rotator.patchNamespacedCustomObject(
        { ...ROLLOUTS, namespace, name: 'app', body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );

    expect(status).toBe(403);
    const after = await readRollout(namespace, 'app');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.metadata.annotations).toEqual(before.metadata.annotations);
  });

  it('restarts a Rollout once per AWSCURRENT move through restartAt (no new revision), verified by its status', async () => {
    const secretId = await wf.secret('argo');
    const namespace = await fx.namespaceWithStore('argo');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    await rollout(namespace, 'web', { template: podTemplate('web') });
    // workloadRef: the Rollout runs this Deployment's template (scaled to 0, as Argo's migration says).
    await fx.workload('Deployment', namespace, 'legacy', reads, { spec: { replicas: 0 } });
    await rollout(namespace, 'ref', {
      selector: { matchLabels: { app: 'legacy' } },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'legacy' },
    });
    const refs = ['web', 'ref'].map((name) => ({ kind: 'Rollout', namespace, name }));
    await fx.rolledOut(refs);
    const before = await readRollout(namespace, 'web');
    const legacyBefore = await wf.podTemplate(namespace, 'legacy');
    const replicaSets = async () =>
      (await fx.admin.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace })).items
        .map((rs) => rs.metadata?.name)
        .sort();
    const setsBefore = await replicaSets();

    for (const move of [1, 2]) {
      const versionId = await wf.rotate(secretId);
      const execution = await wf.run(`argo-${move}`, secretId, versionId);

      expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
      const { entry, restarted, failed } = await wf.propagation(secretId);
      expect(entry).toMatchObject({ status: 'succeeded', versionId });
      expect(failed).toEqual([]);
      expect([...restarted].sort()).toEqual(refs.map(refKey).sort());
      expect(entry.clusters?.[0]?.counts).toMatchObject({ restarted: 2, failed: 0 });
      // The Deployment the Rollout takes its template from is reported, never restarted.
      expect((entry.clusters?.[0]?.nextPod ?? []).map((l) => l.split(': ')[0])).toEqual([
        refKey({ kind: 'Deployment', namespace, name: 'legacy' }),
      ]);
      const after = await readRollout(namespace, 'web');
      // Verified by its status: the controller copied restartAt to restartedAt and says Healthy.
      expect(after.spec.restartAt).toBeDefined();
      expect(after.status?.restartedAt).toBe(after.spec.restartAt);
      expect(after.status?.phase).toBe('Healthy');
      expect(after.metadata.annotations?.[restartedMarkerKey(secretId)]).toMatch(
        new RegExp(`^${versionId}#\\d+$`),
      );
      // The same revision: template untouched, no new ReplicaSet, every pod newer than restartAt.
      expect(after.spec.template).toEqual(before.spec.template);
      expect(after.status?.currentPodHash).toBe(before.status?.currentPodHash);
      expect(await replicaSets()).toEqual(setsBefore);
      const running = await pods(namespace, 'web');
      expect(running).toHaveLength(2);
      for (const pod of running) {
        expect(pod.hash).toBe(before.status?.currentPodHash);
        expect(pod.created).toBeGreaterThanOrEqual(Date.parse(after.spec.restartAt ?? ''));
      }
      expect(await wf.podTemplate(namespace, 'legacy')).toEqual(legacyBefore);
      expect(await fx.secretValue(namespace, SECRET, 'password')).toBe(wf.values.at(-1));

      // A second execution for the same move restarts nothing again: the marker and status say done.
      const again = await wf.run(`argo-${move}-again`, secretId, versionId);
      expect(again.status, JSON.stringify(again.failedWith)).toBe('SUCCEEDED');
      expect((await readRollout(namespace, 'web')).spec.restartAt).toBe(after.spec.restartAt);
    }

    // GitOps: a server-side apply of the Git manifest (no restartAt, no marker) by another field
    // manager with force, as Argo CD (ServerSideApply=true) and Flux send it, keeps our fields and
    // starts nothing.
    const restarted = await readRollout(namespace, 'web');
    const gitops = KubernetesObjectApi.makeApiClient(fx.admin);
    await gitops.patch(
      rolloutManifest(namespace, 'web', { template: podTemplate('web') }),
      undefined,
      undefined,
      'argocd-controller',
      true,
      PatchStrategy.ServerSideApply,
    );
    const applied = await readRollout(namespace, 'web');
    expect(applied.spec.restartAt).toBe(restarted.spec.restartAt);
    expect(applied.metadata.annotations?.[restartedMarkerKey(secretId)]).toBe(
      restarted.metadata.annotations?.[restartedMarkerKey(secretId)],
    );
    expect(applied.metadata.generation).toBe(restarted.metadata.generation);
    expect(await replicaSets()).toEqual(setsBefore);
  });

  it('does not count a Rollout whose restart does not progress (evictions refused by a PodDisruptionBudget)', async () => {
    const secretId = await wf.secret('argo-stuck');
    const namespace = await fx.namespaceWithStore('argo-stuck');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    await rollout(namespace, 'guarded', { template: podTemplate('guarded') });
    await fx.admin.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace,
      body: {
        metadata: { name: 'all' },
        spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } },
      },
    });
    await fx.rolledOut([{ kind: 'Rollout', namespace, name: 'guarded' }]);
    const podsBefore = await pods(namespace, 'guarded');
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('argo-stuck', secretId, versionId);

    const { entry, restarted, failed } = await wf.propagation(secretId);
    // Status and outcome in one assertion, so that a failure shows what the workflow concluded.
    expect({ status: execution.status, restarted }).toEqual({ status: 'FAILED', restarted: [] });
    expect(entry).toMatchObject({ status: 'failed', versionId });
    expect(failed.join(' ')).toContain(`Rollout/${namespace}/guarded`);
    expect(entry.clusters?.[0]?.counts).toMatchObject({ restarted: 0 });
    const stuck = await readRollout(namespace, 'guarded');
    expect(stuck.spec.restartAt).toBeDefined();
    expect(stuck.status?.restartedAt).toBeUndefined();
    expect(stuck.status?.message).toBe('rollout is restarting');
    // Every pod that existed before the restart is older than restartAt, even one created in the
    // patch's own second (restartAt is the next whole second), so the controller must evict it.
    expect(podsBefore).toHaveLength(2);
    for (const pod of podsBefore) expect(pod.created).toBeLessThan(Date.parse(stuck.spec.restartAt ?? ''));
  });

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.hostOutput().length).toBeGreaterThan(0);
    expect(wf.leakedValues()).toEqual([]);
  });
});
