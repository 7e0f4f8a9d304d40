/**
 * Least privilege, proven from what is sent: every Secrets Manager command of the propagation
 * step (its ledger commands have propagation-ledger-iam.test.ts) is evaluated by the IAM policy
 * simulator against the step role in the synthesized stack: the retire-previous step through the
 * real handler against moto (DescribeSecret, then UpdateSecretVersionStage removing AWSPREVIOUS),
 * and the replica port the handler wires (DescribeSecret of the secret in its region, then of its
 * replica in the replica's region). moto enforces no IAM, so a call the role lacks would otherwise
 * first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsConfig } from '../../harness/local-aws';
import { secretsManagerReplicas } from '../../shared/propagation/replica-port';
import { roleSimulation } from '../support/role-simulation';
import { stagesOf } from '../support/rotation-request-fixture';

const iam = roleSimulation();
const { clients } = iam;
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-step-${randomUUID().slice(0, 6)}/`;
const REPLICA_REGION = 'eu-west-1';

async function importHandler() {
  iam.stubHandlerEnvironment({
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    ROTATOR_CLUSTERS: 'prod-eu-1',
    ROTATOR_LEDGER_TABLE: `ledger-${randomUUID()}`,
  });
  return (await import('../../functions/propagation-step/handler')).handler as (
    event: unknown,
    context: unknown,
  ) => Promise<unknown>;
}

/** A replicated secret rotated once: the first version AWSPREVIOUS, the second AWSCURRENT. */
async function rotatedReplicatedSecret(name: string) {
  const created = await clients.secretsManager.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: 'iam-step-value-1',
      AddReplicaRegions: [{ Region: REPLICA_REGION }],
    }),
  );
  const arn = created.ARN ?? '';
  const previous = (await stagesOf(clients, arn)).current;
  await clients.secretsManager.send(
    new PutSecretValueCommand({ SecretId: arn, SecretString: 'iam-step-value-2' }),
  );
  return { arn, previous, current: (await stagesOf(clients, arn)).current };
}

describe('the propagation step role allows every Secrets Manager call the step sends', () => {
  it('retiring the previous version and reading the replicas of a replicated secret', async () => {
    const name = `${PREFIX}db`;
    const secret = await rotatedReplicatedSecret(name);
    const handler = await importHandler();
    const claim = {
      claimed: true,
      executionId: 'exec-iam',
      secret: { name, arn: secret.arn, tags: {} },
      versionId: secret.current,
      previousVersionId: secret.previous,
      moveSeq: 1,
      clusters: ['prod-eu-1'],
      budget: { inFlight: 1, percent: 100, canary: 0 },
      startedAt: new Date().toISOString(),
      trigger: 'request',
      actor: 'arn:aws:iam::123456789012:role/ops',
      retirePrevious: true,
    };
    // The replica port exactly as the handler wires it (one client per region), over moto.
    const replicas = secretsManagerReplicas(localAwsConfig(iam.endpoint));

    const { retired, replicaStages } = await iam.recorder.during(async () => {
      const [replica] = await replicas.replicationOf(secret.arn);
      const replicaArn = secret.arn.replace(':us-east-1:', `:${replica?.region}:`);
      return {
        retired: await handler({ action: 'retire-previous', claim }, localLambdaContext('step')),
        replicaStages: await replicas.stagesIn(REPLICA_REGION, replicaArn),
      };
    });

    expect(retired).toEqual({ retired: secret.previous });
    expect(replicaStages[secret.current]).toContain('AWSCURRENT');
    const actions = ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'];
    const requests = await iam.expectRoleAllows(/^PropagationRole/, actions, {
      // Every call here names the secret (or its replica) by ARN.
      secretArn: async (id) => id,
    });
    expect(requests.map((r) => r.resource)).toContain(
      secret.arn.replace(':us-east-1:', `:${REPLICA_REGION}:`),
    );
    expect(requests.flatMap((r) => r.context['secretsmanager:VersionStage'] ?? [])).toEqual(['AWSPREVIOUS']);
  });
});
