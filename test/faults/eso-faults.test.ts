/**
 * Fault row M (review section 4, finding L9): ESO reads a stale value. The row's SecretStore is
 * handed to a second ESO controller (test/support/namespace-eso.ts) whose Secrets Manager endpoint
 * is an AWS fault proxy (scripts/faults/fault-proxy.ts); during one propagation the proxy answers
 * ESO's GetSecretValue for the row's secret with the previous version's value, as a cache or a
 * lagging read would, and passes every other call to moto. ESO v0.20.4 has no per-store endpoint, so a second
 * controller is the way to put a proxy on one store's reads only.
 *
 * What it shows: the force-sync's read returns N-1, ESO writes nothing new and reports the sync as
 * any other (Ready, SecretSynced, a new syncedResourceVersion), so the propagation confirms the
 * sync, restarts the consumers on the old value and records success; the reconcile finds nothing
 * to do. Oracle 1 (the Kubernetes Secret against AWSCURRENT) is what catches it. The product
 * cannot notice without reading values: its RBAC has no access to Secrets and its IAM role no
 * GetSecretValue on the managed secrets (docs/faults.md, row M). After ESO's next read the Secret
 * holds AWSCURRENT, yet the consumers keep the old value until their next restart; the next
 * rotation converges them, and the whole oracle holds.
 */
import { dirname } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../scripts/faults/fault-proxy';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { FAULT_SEED, faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, type RowSecret } from '../support/fault-matrix';
import { assignStore, type NamespaceEso, startNamespaceEso } from '../support/namespace-eso';

const wf = faultHarness({ restartConcurrency: 2 });
/** The controller class of the row's store: the cluster's ESO leaves it to the row's own. */
const STALE_CLASS = 'fault-row-m';

let esoProxy: FaultProxy | undefined;
let eso: NamespaceEso | undefined;
beforeAll(async () => {
  esoProxy = await startFaultProxy(inject('motoEndpoint'), { seed: FAULT_SEED });
});
afterAll(async () => {
  await eso?.stop();
  await esoProxy?.stop();
});

const proxy = () => {
  if (!esoProxy) throw new Error('the ESO proxy is not started');
  return esoProxy;
};

/** AWSCURRENT's password, read straight from moto (compared, never printed). */
async function currentPassword(secretId: string): Promise<string> {
  const out = await wf.fx.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  return (JSON.parse(out.SecretString ?? '{}') as { password: string }).password;
}

/** Whether the row's Kubernetes Secret holds `password` (a boolean, so no value reaches a message). */
async function secretHolds(s: RowSecret, password: string): Promise<boolean> {
  return (await wf.fx.secretValue(s.namespace, 'db-secret', 'password')) === password;
}

/** ESO's GetSecretValue calls through the proxy so far: all of them, and those answered stale. */
function esoReads() {
  const reads = proxy().log.filter((e) => e.target === 'secretsmanager.GetSecretValue');
  return { all: reads.length, stale: reads.filter((e) => e.stale).length };
}

/** The consumers' pods, newest creation first. */
async function consumerPods(namespace: string) {
  const pods = await wf.fx.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  return pods.items.map((p) => Date.parse(String(p.metadata?.creationTimestamp))).sort((a, b) => b - a);
}

describe('fault matrix, ESO', () => {
  it('M: ESO reads the previous version during a propagation: the oracle catches the stale Secret, the product reports success; the next rotation converges', async () => {
    // The file's baseline first, so the row's AWS call count (oracle 7) holds only its own calls
    // even though the row asks the oracle twice.
    await wf.awsCalls.baseline();
    const row = faultRow(wf, 'M', 'ESO GetSecretValue answered with AWSPREVIOUS during one propagation');
    const s = await row.secret('stale');
    await assignStore(wf.fx.admin, s.namespace, 'aws', STALE_CLASS);
    eso = await startNamespaceEso({
      stateDir: dirname(inject('kubeconfig')),
      kubeconfig: inject('kubeconfig'),
      namespace: s.namespace,
      controllerClass: STALE_CLASS,
      secretsManagerEndpoint: proxy().endpoint,
      stsEndpoint: inject('motoEndpoint'),
    });

    // Without the fault, the row's ESO reads through the proxy and the rotation lands.
    const first = await row.run(s, await row.rotate(s));
    expect(first.status).toBe('SUCCEEDED');
    expect(await secretHolds(s, await currentPassword(s.secretId))).toBe(true);
    expect(esoReads().all).toBeGreaterThan(0);

    // The fault: every read ESO makes for this secret answers N-1 until the row lifts it, after
    // the oracle has looked. Usually the force-sync's one read is all ESO makes, but not always (a
    // CI run saw a second, fresh read fix the Secret when only one read was made stale), so the
    // fault lasts as long as the row needs the Secret stale.
    const previous = await currentPassword(s.secretId);
    const versionId = await row.rotate(s);
    const readsBefore = esoReads();
    proxy().setStaleReads([{ secretId: s.secretId, times: 1_000 }]);
    const stale = await row.run(s, versionId);
    const staleReads = esoReads().stale - readsBefore.stale;
    expect(staleReads).toBeGreaterThanOrEqual(1);

    // What the product does: confirms the sync, restarts on the old value, records success.
    expect(stale.status).toBe('SUCCEEDED');
    expect(stale.states).not.toContain('Alert');
    const { entry, synced, restarted, failed } = await wf.propagation(s.secretId);
    expect([entry.versionId, entry.status]).toEqual([versionId, 'succeeded']);
    expect([synced.length, restarted.length, failed.length]).toEqual([1, s.workloads.length, 0]);
    for (const workload of s.workloads) {
      const { annotations } = await wf.podTemplate(s.namespace, workload);
      expect(annotations[restartedMarkerKey(s.secretId)]?.startsWith(`${versionId}#`)).toBe(true);
    }
    expect(await secretHolds(s, previous)).toBe(true);
    // The sweep's reconcile sees a succeeded propagation of AWSCURRENT: nothing to do.
    expect(await row.quiesce()).toBe(0);
    expect(row.executions).toHaveLength(2);

    // Oracle 1 catches it, and nothing else in the oracle does.
    const detected = await row.oracle();
    expect(detected.problems).toEqual([`${s.secretId}: the Kubernetes Secret is not AWSCURRENT`]);
    expect([detected.converged, detected.failures, detected.alerts]).toEqual([0, 0, 0]);

    // The fault lifts. ESO's next read (its refresh; here the force-sync annotation, as `kubectl
    // annotate` would ask, instead of waiting out the hour's refreshInterval) passes and fixes the
    // Secret. The consumers' pods all started before it: they keep N-1 until their next restart.
    const staleInAll = esoReads().stale - readsBefore.stale;
    proxy().setStaleReads([]);
    const resyncedAt = Date.now();
    await forceSync(s.namespace, 'db');
    const expected = await currentPassword(s.secretId);
    await wf.fx.eventually('the Secret to hold AWSCURRENT', async () =>
      (await secretHolds(s, expected)) ? true : undefined,
    );
    const pods = await consumerPods(s.namespace);
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.every((created) => created < resyncedAt)).toBe(true);

    // The next rotation restarts them on a fresh read; the reconcile has nothing left; the oracle holds.
    const next = await row.run(s, await row.rotate(s));
    expect(next.status).toBe('SUCCEEDED');
    await row.quiesce();
    expect(esoReads().stale - readsBefore.stale).toBe(staleInAll);
    row.note(
      `ESO read N-1 ${staleReads}× during the propagation (${esoReads().all} reads through its proxy); that execution SUCCEEDED, ` +
        `restarted ${restarted.length} consumers on the old value, no alert; the reconcile found nothing; ` +
        `oracle 1 caught the stale Secret; ESO's next read fixed it; the next rotation converged the consumers`,
    );
    expectOracle(await row.oracle());
  });
});

/** ESO's force-sync annotation on an ExternalSecret (a metadata merge patch, as the product sends it). */
async function forceSync(namespace: string, name: string): Promise<void> {
  await wf.fx.admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: 'external-secrets.io',
      version: 'v1',
      namespace,
      plural: 'externalsecrets',
      name,
      body: { metadata: { annotations: { 'external-secrets.io/force-sync': `row-m-${Date.now()}` } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
