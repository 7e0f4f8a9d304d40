/**
 * Least privilege, proven from what is sent: every Secrets Manager command the rotation function
 * sends through its real handler against moto (the four steps Secrets Manager invokes, and the
 * propagation workflow's rollBack of the rotated version) is evaluated by the IAM policy simulator
 * against the rotation function's role in the synthesized stack, for a managed secret whose
 * rotation function it is. moto enforces no IAM, so a call the role lacks would first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  startRotation,
} from '../../harness/rotation-fixture';
import { findLeakedValues } from '../support/output-capture';
import { roleSimulation } from '../support/role-simulation';
import { stagesOf } from '../support/rotation-request-fixture';

const iam = roleSimulation();
const { clients, rotationFunction } = iam;
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-rotate-${randomUUID().slice(0, 6)}/`;
const INITIAL = 'iam-rotate-initial-value-01';

async function importHandler() {
  iam.stubHandlerEnvironment({ ROTATOR_MANAGED_PREFIXES: PREFIX });
  return (await import('../../functions/rotate-secret/handler')).handler;
}

describe('the rotation function role allows every call its handler sends', () => {
  it('through the four rotation steps and a rollBack of the rotated version', async () => {
    const arn = await createSecret(clients, `${PREFIX}generated`, INITIAL);
    const first = (await stagesOf(clients, arn)).current;
    const token = await startRotation(clients, arn, await ensurePlaceholderRotationFunction(clients));
    const handler = await importHandler();

    const outcomes = await iam.recorder.during(async () => {
      const results: unknown[] = [];
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
        results.push(
          await handler({ Step, SecretId: arn, ClientRequestToken: token }, localLambdaContext('r')),
        );
      }
      results.push(
        await handler(
          { rotatorAction: 'rollBack', secretId: arn, versionId: token, previousVersionId: first },
          localLambdaContext('r'),
        ),
      );
      return results;
    });

    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'pending-created' }),
      expect.objectContaining({ outcome: 'target-updated' }),
      expect.objectContaining({ outcome: 'tested' }),
      expect.objectContaining({ outcome: 'current-moved' }),
      expect.objectContaining({ status: 'rolled-back' }),
    ]);
    const actions = [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetRandomPassword',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    const requests = await iam.expectRoleAllows(/^OrchestratorRotateSecretRole/, actions, {
      // Secrets Manager invokes a rotation function only for a secret it rotates.
      rotatedBy: () => rotationFunction,
    });
    // finishSecret and the rollBack move AWSCURRENT; the rollBack also takes AWSPREVIOUS away.
    expect(requests.flatMap((r) => r.context['secretsmanager:VersionStage'] ?? []).sort()).toEqual(
      expect.arrayContaining(['AWSCURRENT', 'AWSPREVIOUS']),
    );
    expect(findLeakedValues(iam.outputText(), [INITIAL])).toEqual([]);
  });
});
