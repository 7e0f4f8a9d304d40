/**
 * Least privilege, proven from what is sent: every Secrets Manager command the rotation function
 * sends through its real handler against moto (the four steps Secrets Manager invokes, and the
 * propagation workflow's rollBack of the rotated version) is evaluated by the IAM policy simulator
 * against the rotation function's role in the synthesized stack, for a managed secret whose
 * rotation function it is. moto enforces no IAM, so a call the role lacks would first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  startRotation,
} from '../../harness/rotation-fixture';
import {
  actionsOf,
  allAllowed,
  decisionsFor,
  iamRequestsOf,
  motoSecretArns,
  recordSentCommands,
  synthDeployedStack,
} from '../support/aws-call-recorder';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { stagesOf } from '../support/rotation-request-fixture';

vi.stubEnv('CDK_VALIDATION', 'false');
const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-rotate-${randomUUID().slice(0, 6)}/`;
const INITIAL = 'iam-rotate-initial-value-01';
const recorder = recordSentCommands();
const deployed = synthDeployedStack();
const rotationFunction = deployed.arnOf(deployed.stack.orchestrator.rotationFunction);
let output: OutputCapture;

beforeAll(() => {
  output = captureOutput();
});
afterAll(() => {
  output.stop();
  recorder.restore();
  vi.unstubAllEnvs();
});

async function importHandler() {
  vi.resetModules();
  const env = { ...localAwsEnvironment(endpoint), ROTATOR_MANAGED_PREFIXES: PREFIX };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return (await import('../../functions/rotate-secret/handler')).handler;
}

describe('the rotation function role allows every call its handler sends', () => {
  it('through the four rotation steps and a rollBack of the rotated version', async () => {
    const arn = await createSecret(clients, `${PREFIX}generated`, INITIAL);
    const first = (await stagesOf(clients, arn)).current;
    const token = await startRotation(clients, arn, await ensurePlaceholderRotationFunction(clients));
    const handler = await importHandler();

    const outcomes = await recorder.during(async () => {
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
    const requests = await iamRequestsOf(recorder.sent.splice(0), {
      secretArn: motoSecretArns(clients.secretsManager),
      // Secrets Manager invokes a rotation function only for a secret it rotates.
      rotatedBy: () => rotationFunction,
      resourceArn: (name) => `unknown resource ${name}`,
    });
    // The paths above must reach AWS at all, or this proves nothing.
    expect(actionsOf(requests)).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetRandomPassword',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    // finishSecret and the rollBack move AWSCURRENT; the rollBack also takes AWSPREVIOUS away.
    expect(requests.flatMap((r) => r.context['secretsmanager:VersionStage'] ?? []).sort()).toEqual(
      expect.arrayContaining(['AWSCURRENT', 'AWSPREVIOUS']),
    );
    const decisions = await decisionsFor(deployed, /^OrchestratorRotateSecretRole/, requests);
    expect(decisions).toEqual(allAllowed(requests));
    expect(findLeakedValues(output.text(), [INITIAL])).toEqual([]);
  });
});
