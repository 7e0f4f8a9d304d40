import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import { ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { ConfigError } from '../../shared/errors';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { InMemoryLedger } from '../support/in-memory-ledger';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { idleRotatingSecret, stagesOf, unfinishedRotationSecret } from '../support/rotation-request-fixture';

const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
const PREFIX = `request-handler-${randomUUID().slice(0, 6)}/`;
const RESPONDER = 'arn:aws:iam::111122223333:role/incident-responder';
const VALUES = [
  'request-handler-value-0001',
  'request-handler-value-0002',
  'request-handler-value-0003',
  'request-handler-value-0004',
];
const ledger = new InMemoryLedger();
let output: OutputCapture;
let placeholder: string;

/**
 * The ledger is not the subject here: the handler's DynamoDB ledger is replaced by the in-memory
 * one, whose rotations (newest first) are the history an emergency's cooldown reads.
 */
vi.doMock('../../shared/ledger/dynamodb-ledger', () => ({
  DynamoDbLedger: class {
    recordRotation = (record: Parameters<InMemoryLedger['recordRotation']>[0]) =>
      ledger.recordRotation(record);
    history = async (secretName: string) =>
      ledger.rotations
        .filter((r) => r.secretName === secretName)
        .reverse()
        .map((r) => ({ kind: 'rotation', ...r }));
  },
}));

async function importHandler(
  env: Record<string, string | undefined>,
  fn: 'rotation-request' | 'emergency-request' = 'rotation-request',
) {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return fn === 'rotation-request'
    ? (await import('../../functions/rotation-request/handler')).handler
    : (await import('../../functions/emergency-request/handler')).handler;
}

const handlerEnv = () => ({
  ...localAwsEnvironment(endpoint),
  ROTATOR_MANAGED_PREFIXES: PREFIX,
  ROTATOR_LEDGER_TABLE: 'rotation-ledger',
});

/** A function URL request exactly as Lambda documents it for `AuthType: AWS_IAM` (payload 2.0). */
function functionUrlEvent(body: unknown, options: { method?: string; iam?: boolean; base64?: boolean } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abcdefg.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdefg',
      authentication: null,
      authorizer:
        options.iam === false
          ? undefined
          : {
              iam: {
                accessKey: 'AKIAIOSFODNN7EXAMPLE',
                accountId: '111122223333',
                callerId: 'AROACKCEVSQ6C2EXAMPLE:responder',
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: RESPONDER,
                userId: 'AROACKCEVSQ6C2EXAMPLE:responder',
              },
            },
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefg',
      http: {
        method: options.method ?? 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'aws-sdk-js/3',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '23/Nov/2026:12:00:00 +0000',
      timeEpoch: 1795435200000,
    },
    body: options.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: options.base64 ?? false,
  };
}

/** The custom event as EventBridge delivers it to a Lambda target. */
function requestedEvent(detail: Record<string, unknown>) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': ROTATION_REQUEST_DETAIL_TYPE,
    source: ROTATION_REQUEST_SOURCE,
    account: '123456789012',
    time: '2026-11-23T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

const bodyOf = (response: unknown) => JSON.parse((response as { body: string }).body);

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  output = captureOutput();
});
afterAll(() => {
  output.stop();
  vi.unstubAllEnvs();
  vi.doUnmock('../../shared/ledger/dynamodb-ledger');
});

describe('rotation-request handler (middy + Powertools)', () => {
  it('fails at cold start with a ConfigError naming the missing ledger table', async () => {
    await expect(importHandler({ ...handlerEnv(), ROTATOR_LEDGER_TABLE: undefined })).rejects.toMatchObject({
      name: ConfigError.name,
      message: expect.stringContaining('ROTATOR_LEDGER_TABLE'),
    });
  });

  it('answers a function URL request with 202 and starts an emergency rotation as the IAM caller', async () => {
    // Prepare
    const { arn } = await idleRotatingSecret(clients, `${PREFIX}url`, VALUES[0] as string, placeholder);
    const handler = await importHandler(handlerEnv(), 'emergency-request');

    // Act
    const response = await handler(
      functionUrlEvent(
        { secretId: arn, reason: 'key found in a public repo', retirePrevious: true },
        { base64: true },
      ),
      localLambdaContext('rotation-request'),
    );

    // Assess
    expect(response).toMatchObject({ statusCode: 202, headers: { 'content-type': 'application/json' } });
    const body = bodyOf(response);
    expect(body).toEqual({ secretName: `${PREFIX}url`, versionId: expect.any(String) });
    expect(ledger.rotations.at(-1)).toMatchObject({
      secretName: `${PREFIX}url`,
      versionId: body.versionId,
      actor: RESPONDER,
      trigger: 'emergency',
      emergency: true,
      retirePrevious: true,
    });
    // The new version exists. (The handler's own client sends no RotationLambdaARN, and moto then
    // forgets the configured function and makes that version AWSCURRENT; AWS leaves it AWSPENDING.)
    expect(Object.keys((await stagesOf(clients, arn)).stages)).toContain(body.versionId);
  });

  it('repairs an unfinished rotation for a function URL request, which is always an emergency', async () => {
    const { arn, pendingVersionId } = await unfinishedRotationSecret(
      clients,
      `${PREFIX}url-stuck`,
      VALUES[1] as string,
      placeholder,
    );
    const handler = await importHandler(handlerEnv(), 'emergency-request');

    const response = await handler(
      functionUrlEvent({ secretId: arn, reason: 'leak' }),
      localLambdaContext('r'),
    );

    expect(response).toMatchObject({ statusCode: 202 });
    expect(bodyOf(response).repairedPendingVersionId).toBe(pendingVersionId);
  });

  it('answers a second emergency for the same secret inside the cooldown with 429, when to retry, and changes nothing', async () => {
    const { arn } = await idleRotatingSecret(
      clients,
      `${PREFIX}url-cooldown`,
      VALUES[3] as string,
      placeholder,
    );
    const handler = await importHandler(handlerEnv(), 'emergency-request'); // the default cooldown: 15 minutes
    const first = await handler(functionUrlEvent({ secretId: arn, reason: 'leak' }), localLambdaContext('r'));
    const before = { rotations: ledger.rotations.length, stages: (await stagesOf(clients, arn)).stages };

    const second = await handler(
      functionUrlEvent({ secretId: arn, reason: 'again' }),
      localLambdaContext('r'),
    );

    expect(first).toMatchObject({ statusCode: 202 });
    expect(second).toMatchObject({
      statusCode: 429,
      headers: { 'Retry-After': expect.stringMatching(/^\d+$/) },
    });
    const retryAfter = Number((second as { headers: Record<string, string> }).headers['Retry-After']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(bodyOf(second)).toEqual({
      error: 'EmergencyCooldownError',
      message: expect.stringContaining(`version ${bodyOf(first).versionId}`),
      nextAllowedAt: expect.any(String),
    });
    expect(ledger.rotations).toHaveLength(before.rotations);
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
  });

  it.each([
    ['a body that is not JSON', functionUrlEvent('secretId=x'), 400, 'InvalidEventError'],
    ['a body without a reason', functionUrlEvent({ secretId: `${PREFIX}url` }), 400, 'InvalidEventError'],
    [
      'a body with an unknown field',
      functionUrlEvent({ secretId: `${PREFIX}url`, reason: 'r', retire_previous: true }),
      400,
      'InvalidEventError',
    ],
    [
      'a secret outside the prefixes',
      functionUrlEvent({ secretId: 'prod/x/db', reason: 'r' }),
      403,
      'SecretNotManagedError',
    ],
    [
      'no IAM identity',
      functionUrlEvent({ secretId: `${PREFIX}url`, reason: 'r' }, { iam: false }),
      403,
      'Forbidden',
    ],
    ['a GET', functionUrlEvent('', { method: 'GET' }), 405, 'MethodNotAllowed'],
    [
      'a secret that does not exist',
      functionUrlEvent({ secretId: `${PREFIX}missing`, reason: 'r' }),
      500,
      'AwsCallError',
    ],
  ])(
    'answers a function URL request with %s with the right status and a safe message',
    async (_n, event, status, error) => {
      const before = ledger.rotations.length;
      const handler = await importHandler(handlerEnv(), 'emergency-request');

      const response = await handler(event, localLambdaContext('rotation-request'));

      expect(response).toMatchObject({ statusCode: status });
      expect(bodyOf(response)).toEqual({ error, message: expect.any(String) });
      expect(ledger.rotations).toHaveLength(before);
    },
  );

  it('rotates on the custom EventBridge event, with the event id as the version id', async () => {
    const { arn } = await idleRotatingSecret(clients, `${PREFIX}event`, VALUES[2] as string, placeholder);
    const handler = await importHandler(handlerEnv());
    const event = requestedEvent({
      secretId: arn,
      reason: 'GuardDuty finding',
      requestedBy: 'leak-detector',
    });

    const result = await handler(event, localLambdaContext('rotation-request'));

    expect(result).toEqual({ secretName: `${PREFIX}event`, secretArn: arn, versionId: event.id });
    expect(ledger.rotations.at(-1)).toMatchObject({
      versionId: event.id,
      actor: 'eventbridge:leak-detector',
      trigger: 'request',
      emergency: false,
      retirePrevious: false,
    });
    // A redelivery of the same event changes nothing.
    const rotations = ledger.rotations.length;
    await expect(handler(event, localLambdaContext('rotation-request'))).resolves.toEqual(result);
    expect(ledger.rotations).toHaveLength(rotations);
  });

  it.each([
    ['an event of another shape', { Step: 'createSecret' }],
    ['the custom event without a reason', requestedEvent({ secretId: `${PREFIX}event` })],
    [
      'the custom event asking for an emergency',
      requestedEvent({ secretId: `${PREFIX}event`, reason: 'r', emergency: true }),
    ],
    [
      'the custom event asking to retire the previous version',
      requestedEvent({ secretId: `${PREFIX}event`, reason: 'r', retirePrevious: true }),
    ],
  ])('throws an InvalidEventError for %s, and records nothing', async (_name, event) => {
    const before = ledger.rotations.length;
    const handler = await importHandler(handlerEnv());
    await expect(handler(event, localLambdaContext('rotation-request'))).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
    expect(ledger.rotations).toHaveLength(before);
  });

  it('the request function refuses a payload shaped like a function URL request (a forged emergency by direct invoke), records nothing', async () => {
    const { arn } = await idleRotatingSecret(clients, `${PREFIX}forged`, VALUES[3] as string, placeholder);
    const before = ledger.rotations.length;
    const stagesBefore = await stagesOf(clients, arn);
    const handler = await importHandler(handlerEnv());

    await expect(
      handler(functionUrlEvent({ secretId: arn, reason: 'forged' }), localLambdaContext('rotation-request')),
    ).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(ledger.rotations).toHaveLength(before);
    expect(await stagesOf(clients, arn)).toEqual(stagesBefore);
  });

  it('the emergency function refuses the custom EventBridge event, records nothing', async () => {
    const before = ledger.rotations.length;
    const handler = await importHandler(handlerEnv(), 'emergency-request');
    await expect(
      handler(
        requestedEvent({ secretId: `${PREFIX}event`, reason: 'r' }),
        localLambdaContext('emergency-request'),
      ),
    ).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(ledger.rotations).toHaveLength(before);
  });

  it('never printed a secret value, and logged with the Lambda context', () => {
    const text = output.text();
    expect(findLeakedValues(text, VALUES)).toEqual([]);
    expect(text).toContain('"message":"rotation requested"');
    expect(text).toContain('"function_name":"rotation-request"');
  });
});
