/**
 * Least privilege, proven from what is sent: every Secrets Manager and DynamoDB command the request
 * function and the emergency function send (through their real handlers, against moto) on their
 * paths (a plain request, a fresh unfinished rotation refused, a stuck one repaired, an emergency
 * that reads the cooldown history and repairs) is evaluated by the IAM policy simulator against
 * that function's role in the synthesized stack. moto enforces no IAM, so a call the role lacks
 * would otherwise first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { createLedgerTable } from '../../harness/local-ledger';
import { ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { roleSimulation } from '../support/role-simulation';
import { idleRotatingSecret, unfinishedRotationSecret } from '../support/rotation-request-fixture';

const iam = roleSimulation();
const { clients } = iam;
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-request-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID()}`;
const world = {
  // Every secret here is rotated by this project's rotation function (the placeholder stands in).
  rotatedBy: () => iam.rotationFunction,
  resources: { [TABLE]: iam.ledgerTable },
};
let placeholder: string;

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await createLedgerTable(clients.dynamodb, TABLE);
});

async function importHandler(fn: 'rotation-request' | 'emergency-request') {
  iam.stubHandlerEnvironment({ ROTATOR_MANAGED_PREFIXES: PREFIX, ROTATOR_LEDGER_TABLE: TABLE });
  const module =
    fn === 'rotation-request'
      ? await import('../../functions/rotation-request/handler')
      : await import('../../functions/emergency-request/handler');
  return module.handler as (event: unknown, context: unknown) => Promise<unknown>;
}

const requested = (detail: Record<string, unknown>) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': ROTATION_REQUEST_DETAIL_TYPE,
  source: ROTATION_REQUEST_SOURCE,
  account: '123456789012',
  time: '2026-12-01T12:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

/** A function URL request (payload 2.0, AuthType AWS_IAM) with a JSON body. */
const urlRequest = (body: unknown) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'abcdefg',
    authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:role/incident-responder' } },
    domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
    domainPrefix: 'abcdefg',
    http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'x' },
    requestId: randomUUID(),
    routeKey: '$default',
    stage: '$default',
    time: '01/Dec/2026:12:00:00 +0000',
    timeEpoch: 1795435200000,
  },
  body: JSON.stringify(body),
  isBase64Encoded: false,
});

const secretName = (name: string) => `${PREFIX}${name}`;

describe('the request function role allows every call its handler sends', () => {
  it('on a plain request, a fresh unfinished rotation refused and a stuck one repaired', async () => {
    const idle = await idleRotatingSecret(clients, secretName('plain'), 'iam-request-v1', placeholder);
    const fresh = await unfinishedRotationSecret(clients, secretName('fresh'), 'iam-request-v2', placeholder);
    const stuck = await unfinishedRotationSecret(clients, secretName('stuck'), 'iam-request-v3', placeholder);
    const handler = await importHandler('rotation-request');

    await iam.recorder.during(async () => {
      await handler(requested({ secretId: idle.arn, reason: 'iam' }), localLambdaContext('request'));
      await expect(
        handler(requested({ secretId: fresh.arn, reason: 'iam' }), localLambdaContext('request')),
      ).rejects.toThrow(/in progress/);
      // Two hours on, the unfinished rotation is stuck (default: 60 minutes) and is repaired.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 3_600_000 });
      await handler(requested({ secretId: stuck.arn, reason: 'iam' }), localLambdaContext('request'));
      vi.useRealTimers();
    });

    const actions = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'secretsmanager:DescribeSecret',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:RotateSecret',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    await iam.expectRoleAllows(/^RequestsRole/, actions, world);
  });
});

describe('the emergency function role allows every call its handler sends', () => {
  it('on an emergency (the cooldown history read) and on one that repairs an unfinished rotation', async () => {
    const idle = await idleRotatingSecret(clients, secretName('urgent'), 'iam-request-v4', placeholder);
    const pending = await unfinishedRotationSecret(
      clients,
      secretName('urgent-pending'),
      'iam-request-v5',
      placeholder,
    );
    const handler = await importHandler('emergency-request');

    const answers = await iam.recorder.during(async () => [
      await handler(urlRequest({ secretId: idle.arn, reason: 'leak' }), localLambdaContext('emergency')),
      await handler(urlRequest({ secretId: pending.arn, reason: 'leak' }), localLambdaContext('emergency')),
    ]);

    expect(answers).toEqual([
      expect.objectContaining({ statusCode: 202 }),
      expect.objectContaining({ statusCode: 202 }),
    ]);
    const actions = [
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'secretsmanager:DescribeSecret',
      'secretsmanager:RotateSecret',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    await iam.expectRoleAllows(/^RequestsEmergencyRole/, actions, world);
  });
});
