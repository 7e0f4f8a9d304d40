/**
 * Replica regions through the deployed path: the synthesized state machine and the bundled step
 * (workflowHarness), the real local control plane with ESO, and moto serving every region on one
 * endpoint. The secret lives in us-east-1 and is replicated to eu-west-1; one namespace has a store
 * in each of us-east-1, eu-west-1 and ap-south-1 (ESO's AWS provider signs for the store's region, so
 * each store reads that region's secret). moto replicates at once, so the test holds the replica
 * (harness/moto_replication_lag.py): eu-west-1 keeps serving the old AWSCURRENT, as AWS's
 * asynchronous replication may, until the test releases it.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awsExternalSecret, awsSecretStore } from '../../harness/eso-manifests';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { runRotator } from '../support/cli-process';
import { findLeakedValues } from '../support/output-capture';
import { workflowHarness } from '../support/workflow-harness';

const SYNC_TIMEOUT_SECONDS = 20;
const motoEndpoint = inject('motoEndpoint');
/** check-sync invocations, with the time each began: the WaitForSync loop's polls. */
const checkSyncs: number[] = [];
const wf = workflowHarness({
  env: { ROTATOR_SYNC_TIMEOUT_SECONDS: String(SYNC_TIMEOUT_SECONDS) },
  beforeInvoke: (_arn, payload) => {
    if ((payload as { action?: string }).action === 'check-sync') checkSyncs.push(Date.now());
  },
});
const held: string[] = [];
const cliOutput: string[] = [];

/** Holds or releases the secret's replica in eu-west-1 (moto_replication_lag.py). */
async function replication(action: 'hold' | 'release', secret: string): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rotator_replication: { [action]: [{ secret, region: 'eu-west-1' }] } }),
  });
  if (!response.ok) throw new Error(`moto refused to ${action} replication (HTTP ${response.status})`);
  if (action === 'hold') held.push(secret);
}

afterAll(async () => {
  for (const secret of held) await replication('release', secret);
});

/**
 * A secret replicated to eu-west-1; a namespace with stores `aws` (us-east-1), `eu` and `ap`
 * (ap-south-1, where the secret is not), ExternalSecrets `us` and `eu` synced with a Deployment
 * each consuming its Secret, and ExternalSecret `ap` (never synced: nothing by that name there).
 */
async function replicatedSetup(name: string) {
  const secretId = `${wf.prefix}${name}-${randomUUID().slice(0, 4)}`;
  await wf.fx.aws.secretsManager.send(
    new CreateSecretCommand({
      Name: secretId,
      SecretString: wf.value(),
      AddReplicaRegions: [{ Region: 'eu-west-1' }],
    }),
  );
  const namespace = await wf.fx.namespaceWithStore('rr');
  for (const [store, region] of [
    ['eu', 'eu-west-1'],
    ['ap', 'ap-south-1'],
  ] as const) {
    const manifest = awsSecretStore(namespace, store);
    manifest.spec.provider.aws.region = region;
    await wf.fx.create(manifest);
  }
  for (const store of ['aws', 'eu', 'ap']) {
    const es = store === 'aws' ? 'us' : store;
    await wf.fx.create(
      awsExternalSecret(namespace, es, secretId, { secretStoreRef: { name: store, kind: 'SecretStore' } }),
    );
  }
  await wf.fx.externalSecretReady(namespace, 'us');
  await wf.fx.externalSecretReady(namespace, 'eu');
  await wf.fx.consumingDeployments(namespace, 'us-secret', ['api-us']);
  await wf.fx.consumingDeployments(namespace, 'eu-secret', ['api-eu']);
  return { secretId, namespace };
}

beforeAll(() => {
  checkSyncs.length = 0;
});

describe('a secret replicated to another region', () => {
  it('resyncs the store reading the replica only once the replica has the version, then restarts its consumer', async () => {
    const { secretId, namespace } = await replicatedSetup('held');
    // rotator plan says the same as the workflow will: eu after its replica, ap not at all.
    const plan = await runRotator(['plan', secretId, '--prefix', wf.prefix, '--cluster', wf.clusterName], {
      endpoint: motoEndpoint,
    });
    cliOutput.push(plan.stdout, plan.stderr);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      'Replicated to eu-west-1 (InSync): stores there are resynced once the replica has the new version.',
    );
    expect(plan.stdout).toContain(
      `  ExternalSecret ${namespace}/eu → Secret eu-secret: resync (external-secrets.io/force-sync) once the replica in eu-west-1 has the new version`,
    );
    expect(plan.stdout).toContain(
      `  ExternalSecret ${namespace}/us → Secret us-secret: resync (external-secrets.io/force-sync)\n`,
    );
    expect(plan.stdout).toContain(
      `  ExternalSecret ${namespace}/ap: not resynced: it reads the secret's name in ap-south-1, where the secret is not replicated`,
    );
    expect(plan.stdout).toMatch(
      /total: 2 ExternalSecret\(s\) to resync, 2 workload\(s\) to restart, 0 skipped, 1 not synced/,
    );
    await replication('hold', secretId);
    const versionId = await wf.rotate(secretId);
    const newPassword = wf.values.at(-1);
    const before = await wf.podTemplate(namespace, 'api-eu');

    const run = wf.run('replica-held', secretId, versionId);
    // The primary's store is resynced at once; the replica's waits, polled by WaitForSync/CheckSync.
    await wf.fx.eventually('the us ExternalSecret resynced', async () =>
      (await wf.fx.secretValue(namespace, 'us-secret', 'password')) === newPassword ? true : undefined,
    );
    const polls = checkSyncs.length;
    await wf.fx.eventually('three more sync polls', async () =>
      checkSyncs.length >= polls + 3 ? true : undefined,
    );
    expect(await wf.forceSync(namespace, 'us')).toMatch(new RegExp(`^${versionId}@`));
    expect(await wf.forceSync(namespace, 'eu')).toBeUndefined();
    // The replica really lags: ESO reading eu-west-1 still sees the old value.
    expect(await wf.fx.secretValue(namespace, 'eu-secret', 'password')).not.toBe(newPassword);
    expect((await wf.podTemplate(namespace, 'api-eu')).generation).toBe(before.generation);

    const releasedAt = Date.now();
    await replication('release', secretId);
    const execution = await run;

    expect(execution.error, JSON.stringify(execution.failedWith)).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    const annotation = (await wf.forceSync(namespace, 'eu')) ?? '';
    expect(annotation).toMatch(new RegExp(`^${versionId}@`));
    expect(Date.parse(annotation.split('@')[1] ?? '')).toBeGreaterThanOrEqual(releasedAt - 1000);
    expect(await wf.fx.secretValue(namespace, 'eu-secret', 'password')).toBe(newPassword);
    const after = await wf.podTemplate(namespace, 'api-eu');
    expect(after.annotations[restartedMarkerKey(secretId)]).toBeDefined();
    const { entry } = await wf.propagation(secretId);
    const [outcome] = entry.clusters ?? [];
    expect(outcome).toMatchObject({ outcome: 'succeeded', failed: [] });
    expect([...(outcome?.synced ?? [])].sort()).toEqual([
      `ExternalSecret/${namespace}/eu`,
      `ExternalSecret/${namespace}/us`,
    ]);
    expect([...(outcome?.restarted ?? [])].sort()).toEqual([
      `Deployment/${namespace}/api-eu`,
      `Deployment/${namespace}/api-us`,
    ]);
    // The store in ap-south-1 (not a replica region) is reported, not resynced.
    expect(outcome?.notSynced).toEqual([
      expect.stringMatching(
        new RegExp(
          `^ExternalSecret/${namespace}/ap: reads it in ap-south-1, where the secret is not replicated`,
        ),
      ),
    ]);
    expect(await wf.forceSync(namespace, 'ap')).toBeUndefined();
  });

  it('fails the cluster naming the region when the replica never gets the version, and restarts nothing that reads it', async () => {
    const { secretId, namespace } = await replicatedSetup('never');
    await replication('hold', secretId);
    const { versionId: oldVersion } = await wf.fx.rotatedSecret(secretId);
    const versionId = await wf.rotate(secretId);
    const before = await wf.podTemplate(namespace, 'api-eu');
    await wf.alertsReceived();

    const execution = await wf.run('replica-never', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    const { entry } = await wf.propagation(secretId);
    const [outcome] = entry.clusters ?? [];
    expect(outcome?.outcome).toBe('failed');
    expect(outcome?.synced).toEqual([`ExternalSecret/${namespace}/us`]);
    expect(outcome?.restarted).toEqual([`Deployment/${namespace}/api-us`]);
    expect(outcome?.failed).toEqual([
      `ExternalSecret/${namespace}/eu: the replica in eu-west-1 did not get the new version within ${SYNC_TIMEOUT_SECONDS} s (replication InProgress: Replication of the latest version is in progress (held by a local test); its AWSCURRENT is ${oldVersion}, not ${versionId}); not resynced, its consumers are not restarted`,
    ]);
    const alert = (await wf.alertsReceived()).find((m) => m.Subject === `Propagation failed: ${secretId}`);
    expect(alert?.Message).toContain('the replica in eu-west-1 did not get the new version');
    expect(await wf.forceSync(namespace, 'eu')).toBeUndefined();
    const after = await wf.podTemplate(namespace, 'api-eu');
    expect(after.generation).toBe(before.generation);
    expect(after.annotations[restartedMarkerKey(secretId)]).toBeUndefined();
  });

  it('never lets a secret value reach the steps’ logs or the CLI’s output', () => {
    expect(wf.leakedValues()).toEqual([]);
    expect(findLeakedValues(cliOutput.join('\n'), wf.values)).toEqual([]);
  });
});
