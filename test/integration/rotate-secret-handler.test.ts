import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  startRotation,
} from '../../harness/rotation-fixture';
import { ConfigError } from '../../shared/errors';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

const PREFIX = `handler-${Date.now()}/`;
let output: OutputCapture;

beforeAll(() => {
  output = captureOutput();
});
afterAll(() => {
  output.stop();
  vi.unstubAllEnvs();
});

async function importHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return import('../../functions/rotate-secret/handler');
}

describe('rotate-secret handler (middy + Powertools)', () => {
  it('fails at cold start with a ConfigError when no managed prefix is configured', async () => {
    vi.stubEnv('ROTATOR_MANAGED_PREFIXES', undefined);
    // resetModules gives the handler its own copy of errors.ts, so compare by name, not class.
    await expect(importHandler({})).rejects.toMatchObject({
      name: ConfigError.name,
      message: expect.stringContaining('ROTATOR_MANAGED_PREFIXES is required'),
    });
  });

  it('rotates a secret through the four steps, logging with the Lambda context and one EMF line per step', async () => {
    // Prepare
    const endpoint = inject('motoEndpoint');
    const clients = localClients(endpoint);
    const initial = 'handler-initial-value-01';
    const arn = await createSecret(clients, `${PREFIX}db`, initial);
    const token = await startRotation(clients, arn, await ensurePlaceholderRotationFunction(clients));
    const { handler } = await importHandler({
      ...localAwsEnvironment(endpoint),
      ROTATOR_MANAGED_PREFIXES: PREFIX,
    });
    output.text(); // everything before this point is set-up

    // Act
    const outcomes = [];
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      const result = await handler(
        { Step, SecretId: arn, ClientRequestToken: token },
        localLambdaContext('rotate'),
      );
      outcomes.push(result.outcome);
    }

    // Assess
    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    const rotated = await readVersion(clients, arn, token, 'AWSCURRENT');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(initial);
    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    const done = lines.filter((line) => line.message === 'rotation step done');
    expect(done).toHaveLength(4);
    expect(done[0]).toMatchObject({
      function_name: 'rotate',
      secretId: arn,
      versionId: token,
      step: 'createSecret',
    });
    const emf = lines.filter((line) => line._aws?.CloudWatchMetrics);
    expect(emf.map((line) => line.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(emf[0]).toMatchObject({ StepSucceeded: 1 });
    expect(findLeakedValues(output.text(), [initial, rotated ?? ''])).toEqual([]);
  });

  it('rejects a malformed event through the handler with InvalidEventError', async () => {
    const { handler } = await importHandler({
      ...localAwsEnvironment(inject('motoEndpoint')),
      ROTATOR_MANAGED_PREFIXES: PREFIX,
    });
    await expect(handler({ Step: 'createSecret' }, localLambdaContext('rotate'))).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });
});
