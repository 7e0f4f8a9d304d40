/**
 * A cluster in another account, through the deployed path: the synthesized state machine and the
 * bundled step (workflowHarness), with ROTATOR_CLUSTER_ACCESS naming a role in account 2 for the
 * local cluster. moto plays both accounts (a role assumed in account 2 acts there) and honours the
 * role's trust policy (harness/moto_sts_trust.py: principal and sts:ExternalId); the EKS
 * cluster is created in account 2 (DescribeCluster there returns the local API server), and the
 * local token webhook maps that role's sessions through an access entry, as EKS would in account 2.
 * The trust policy names the home account (moto's local identity is not a role); the exact
 * principal of ClusterAccessRole is proven by the policy simulator (test/unit/infra/cross-account-access.test.ts).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateClusterCommand, EKSClient, ResourceInUseException } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../harness/moto-server';
import { ASSUME_ROLE_SESSION_NAME } from '../../shared/kubernetes/assume-role';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { workflowHarness } from '../support/workflow-harness';

const TARGET_ACCOUNT = '210987654321';
const ROLE_NAME = 'rotator-cluster-access';
const ROLE_ARN = `arn:aws:iam::${TARGET_ACCOUNT}:role/${ROLE_NAME}`;
const EXTERNAL_ID = 'orchestrator-local-5d1e';
const SESSION_ARN = `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/${ROLE_NAME}/${ASSUME_ROLE_SESSION_NAME}`;
const CLUSTER = inject('eksClusterName');
// up.sh's layout: STATE_DIR/pki/ca.crt, STATE_DIR/eks-authenticator.json, STATE_DIR/logs/.
const STATE_DIR = join(inject('clusterCaFile'), '..', '..');
const AUTHENTICATOR_CONFIG = join(STATE_DIR, 'eks-authenticator.json');
const AUTHENTICATOR_LOG = join(STATE_DIR, 'logs', 'eks-authenticator.log');

const wf = workflowHarness({
  env: {
    ROTATOR_CLUSTER_ACCESS: JSON.stringify({ [CLUSTER]: { roleArn: ROLE_ARN, externalId: EXTERNAL_ID } }),
  },
});
const local = { endpoint: inject('motoEndpoint'), region: LOCAL_AWS.region };

const trustPolicy = (externalId: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${LOCAL_AWS.accountId}:root` },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  });

/** Credentials in account 2 for setting it up (moto switches accounts on a made-up role). */
async function targetAccountCredentials() {
  const sts = new STSClient({ ...local, credentials: LOCAL_AWS.credentials });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${TARGET_ACCOUNT}:role/test-setup`,
      RoleSessionName: 'setup',
    }),
  );
  sts.destroy();
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken,
  };
}

/** Edits the running webhook's configuration (read per request), atomically. */
function editAccessEntries(edit: (entries: { principalArn: string; groups: string[] }[]) => unknown[]) {
  const config = JSON.parse(readFileSync(AUTHENTICATOR_CONFIG, 'utf8'));
  config.accessEntries = edit(config.accessEntries);
  writeFileSync(`${AUTHENTICATOR_CONFIG}.tmp`, JSON.stringify(config, null, 2));
  renameSync(`${AUTHENTICATOR_CONFIG}.tmp`, AUTHENTICATOR_CONFIG);
}

let iam: IAMClient;

beforeAll(async () => {
  const credentials = await targetAccountCredentials();
  iam = new IAMClient({ ...local, credentials });
  // The target account's side (what ClusterAccessRole creates): first with a trust policy that asks
  // for another external id than the deployment sends.
  await iam.send(
    new CreateRoleCommand({ RoleName: ROLE_NAME, AssumeRolePolicyDocument: trustPolicy('another-id') }),
  );
  const eks = new EKSClient({ ...local, credentials });
  try {
    await eks.send(
      new CreateClusterCommand({
        name: CLUSTER,
        roleArn: `arn:aws:iam::${TARGET_ACCOUNT}:role/eks-cluster`,
        resourcesVpcConfig: {},
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    eks.destroy();
  }
  editAccessEntries((entries) => [
    ...entries,
    { principalArn: ROLE_ARN, groups: ['secret-rotation-orchestrator'] },
  ]);
}, 60_000);

afterAll(() => {
  editAccessEntries((entries) => entries.filter((e) => e.principalArn !== ROLE_ARN));
  iam?.destroy();
});

/** The webhook's reviews logged since `offset` (a byte length of its log). */
function reviewsSince(offset: number): { authenticated: boolean; username?: string; groups?: string[] }[] {
  return readFileSync(AUTHENTICATOR_LOG)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes('"authenticated"'))
    .map((line) => JSON.parse(line));
}

describe('a cluster in another account, reached through its role', () => {
  it('is refused when the trust policy asks for another external id: an AssumeRole error, an alert, nothing changed', async () => {
    const secretId = await wf.secret('orders');
    const namespace = await wf.consumers(secretId, ['api']);
    const before = await wf.podTemplate(namespace, 'api');
    const versionId = await wf.rotate(secretId);
    await wf.alertsReceived();

    const execution = await wf.run('wrong-external-id', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    const { entry } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'failed', executionId: 'wrong-external-id' });
    const [outcome] = entry.clusters ?? [];
    expect(outcome).toMatchObject({ cluster: CLUSTER, outcome: 'failed', synced: [], restarted: [] });
    expect(outcome?.failed.join(' ')).toMatch(
      new RegExp(
        `AssumeRole on "${ROLE_ARN}" failed: AccessDenied .*not authorized to perform: sts:AssumeRole`,
      ),
    );
    const alert = (await wf.alertsReceived()).find((m) => m.Subject === `Propagation failed: ${secretId}`);
    expect(alert?.Message).toContain(`${CLUSTER}: AwsCallError`);
    expect(alert?.Message).toContain('AssumeRole');
    expect(await wf.forceSync(namespace, 'db')).toBeUndefined();
    const after = await wf.podTemplate(namespace, 'api');
    expect(after.generation).toBe(before.generation);
    expect(after.annotations[restartedMarkerKey(secretId)]).toBeUndefined();
  });

  it('with the external id the trust policy asks for: resyncs and restarts, as the assumed role of account 2', async () => {
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: ROLE_NAME, PolicyDocument: trustPolicy(EXTERNAL_ID) }),
    );
    const secretId = await wf.secret('payments');
    const namespace = await wf.consumers(secretId, ['api', 'worker']);
    const versionId = await wf.rotate(secretId);
    const logOffset = readFileSync(AUTHENTICATOR_LOG).length;

    const execution = await wf.run('right-external-id', secretId, versionId);

    expect(execution.error, JSON.stringify(execution.failedWith)).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    expect(await wf.fx.secretValue(namespace, 'db-secret', 'password')).toBe(wf.values.at(-1));
    const { entry } = await wf.propagation(secretId);
    expect(entry.clusters?.[0]).toMatchObject({ cluster: CLUSTER, outcome: 'succeeded', failed: [] });
    expect([...(entry.clusters?.[0]?.restarted ?? [])].sort()).toEqual([
      `Deployment/${namespace}/api`,
      `Deployment/${namespace}/worker`,
    ]);
    const reviews = reviewsSince(logOffset);
    expect(reviews.length).toBeGreaterThan(0);
    // Every request the step made was authenticated as the session of the role in account 2.
    expect(reviews).toEqual(
      reviews.map(() => ({
        time: expect.any(String),
        authenticated: true,
        username: SESSION_ARN,
        groups: ['secret-rotation-orchestrator'],
      })),
    );
  });

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.leakedValues()).toEqual([]);
  });
});
