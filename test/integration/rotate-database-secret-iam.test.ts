/**
 * Least privilege, proven from what is sent: every Secrets Manager command the database rotation
 * function's ports send against moto and a real local PostgreSQL (an alternating-users rotation's
 * four steps, which read the master secret named by `masterarn`, then the workflow's
 * revokePrevious) is evaluated by the IAM policy simulator against that function's role in the
 * synthesized stack, deployed with the master secret in `databaseRotation.masterSecretArns` (the
 * README's rule for alternating users). moto enforces no IAM, so a call the role lacks would
 * otherwise first fail in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import { revokePreviousStep } from '../../shared/rotation/revoke-previous';
import { motoSecretArns } from '../support/aws-call-recorder';
import { type DatabaseAdmin, postgresAdmin } from '../support/database-admin';
import { databaseRotationHarness } from '../support/database-fixture';
import { findLeakedValues } from '../support/output-capture';
import { roleSimulation } from '../support/role-simulation';

/** Where the deployed stack would find these secrets: a managed user secret, an RDS-managed master. */
const DEPLOYED_USER_PREFIX = 'prod/app-team/iam-database/';
const DEPLOYED_MASTER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-iam-Q1w2E3';
const iam = roleSimulation({
  databaseRotation: { tlsByDefault: true, masterSecretArns: [DEPLOYED_MASTER] },
});
const { deployed } = iam;
const passwords = new Set<string>();
let postgres: DatabaseAdmin;

beforeAll(async () => {
  postgres = await postgresAdmin((password) => passwords.add(password));
}, 90_000);
afterAll(async () => {
  await postgres?.stop();
  expect(findLeakedValues(iam.outputText(), passwords)).toEqual([]);
});

describe('the database rotation function role allows every call its ports send', () => {
  it('through an alternating-users rotation (with its master secret) and a revokePrevious', async () => {
    const harness = databaseRotationHarness(postgres.server.caPem);
    const master = await postgres.createMaster('iam');
    const masterArn = await createSecret(harness.clients, harness.name('master'), JSON.stringify(master), {
      'rotator:strategy': postgres.strategies.singleUser,
    });
    const user = { ...(await postgres.createUser('iam')), masterarn: masterArn };
    const arn = await createSecret(harness.clients, harness.name('user'), JSON.stringify(user), {
      'rotator:strategy': postgres.strategies.alternatingUsers,
    });

    // RotateSecret is Secrets Manager's (started here), not the function's: not recorded.
    const token = await harness.begin(arn);

    const { outcomes, revoked } = await iam.recorder.during(async () => {
      const steps = [];
      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        steps.push((await harness.step(step, arn, token)).outcome);
      }
      const revoke = { rotatorAction: 'revokePrevious', secretId: arn, versionId: token };
      return { outcomes: steps, revoked: await revokePreviousStep(revoke, harness.deps) };
    });

    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    expect(revoked).toMatchObject({ status: 'revoked', username: user.username });
    const motoArn = motoSecretArns(harness.clients.secretsManager);
    // The harness's secrets live under its own prefix; the deployed stack's under cdk.json's.
    const deployedArn = async (id: string) => {
      const found = await motoArn(id);
      return found === masterArn
        ? DEPLOYED_MASTER
        : found.replace(`:secret:${harness.prefix}`, `:secret:${DEPLOYED_USER_PREFIX}`);
    };
    const actions = [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetRandomPassword',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    const requests = await iam.expectRoleAllows(/^OrchestratorRotateDatabaseSecretRole/, actions, {
      secretArn: deployedArn,
      // The master is rotated elsewhere (RDS); every managed secret here by this function.
      rotatedBy: (secretArn) =>
        secretArn === DEPLOYED_MASTER
          ? undefined
          : deployed.arnOf(deployed.stack.orchestrator.databaseRotationFunction ?? deployed.stack),
    });
    expect(requests.map((r) => r.resource)).toContain(DEPLOYED_MASTER);
  });
});
