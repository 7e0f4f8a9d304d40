import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import { DEFAULT_EXCLUDED_CHARACTERS } from '../../shared/rotation/password-policy';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { countOperations, rotationHarness } from '../support/rotation-harness';

const harness = rotationHarness();
let output: OutputCapture;

beforeAll(() => {
  output = captureOutput();
});
afterAll(() => output.stop());

describe('rotateSecretStep against Secrets Manager (moto over HTTP)', () => {
  it('rotates a plain string secret through all four steps', async () => {
    // Prepare
    const initial = 'initial-plain-value-0001';
    const arn = await createSecret(harness.clients, harness.name('plain'), initial);
    harness.seenValues.add(initial);
    const before = await harness.snapshot(arn);
    const [oldVersion] = Object.keys(before.stages);

    // Act
    const { token, outcomes } = await harness.rotate(arn);

    // Assess
    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    const after = await harness.snapshot(arn);
    expect(after.stages[token]).toContain('AWSCURRENT');
    expect(after.stages[oldVersion ?? '']).toEqual(['AWSPREVIOUS']);
    const rotated = after.values[token] ?? '';
    expect(rotated).not.toBe(initial);
    expect(rotated).toHaveLength(32);
    for (const excluded of DEFAULT_EXCLUDED_CHARACTERS) expect(rotated).not.toContain(excluded);
  });

  it('regenerates only the named JSON fields and keeps every other field', async () => {
    const initial = {
      username: 'app_user',
      password: 'old-password-0001',
      apiKey: 'old-api-key-0001',
      port: 5432,
    };
    const arn = await createSecret(harness.clients, harness.name('json'), JSON.stringify(initial), {
      'rotator:fields': 'password apiKey',
    });
    harness.seenValues.add(initial.password).add(initial.apiKey);

    await harness.rotate(arn);

    const rotated = JSON.parse((await harness.current(arn)) ?? '{}');
    expect(rotated.username).toBe('app_user');
    expect(rotated.port).toBe(5432);
    expect(rotated.password).not.toBe(initial.password);
    expect(rotated.apiKey).not.toBe(initial.apiKey);
    expect(rotated.password).toHaveLength(32);
  });

  it('applies the policy from the secret tags over the defaults', async () => {
    const arn = await createSecret(harness.clients, harness.name('tagged'), 'initial-tagged-value-01', {
      'rotator:length': '48',
      'rotator:exclude-punctuation': 'true',
    });
    harness.seenValues.add('initial-tagged-value-01');

    await harness.rotate(arn);

    const rotated = (await harness.current(arn)) ?? '';
    expect(rotated).toHaveLength(48);
    expect(rotated).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('repeats every step without changing the outcome', async () => {
    const arn = await createSecret(harness.clients, harness.name('repeat'), 'initial-repeat-value-01');
    harness.seenValues.add('initial-repeat-value-01');
    const token = await harness.begin(arn);

    await harness.step('createSecret', arn, token);
    const afterFirstCreate = await harness.snapshot(arn);
    const second = await harness.step('createSecret', arn, token);
    expect(second.outcome).toBe('pending-exists');
    expect(await harness.snapshot(arn)).toEqual(afterFirstCreate);

    for (const step of ['setSecret', 'setSecret', 'testSecret', 'testSecret', 'finishSecret']) {
      await harness.step(step, arn, token);
    }
    const done = await harness.snapshot(arn);
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      expect((await harness.step(step, arn, token)).outcome).toBe('already-current');
    }
    expect(await harness.snapshot(arn)).toEqual(done);
    expect(done.values[token]).toBe(afterFirstCreate.values[token]);
  });

  it('passes the RotationToken from the event to PutSecretValue', async () => {
    const arn = await createSecret(harness.clients, harness.name('token'), 'initial-token-value-001');
    harness.seenValues.add('initial-token-value-001');
    const token = await harness.begin(arn);
    const sent: Record<string, unknown>[] = [];
    harness.clients.secretsManager.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutSecretValueCommand') sent.push({ ...(args.input as object) });
        return next(args);
      },
      { step: 'initialize', name: 'recordPut' },
    );

    await harness.step('createSecret', arn, token, { RotationToken: 'rotation-token-from-event' });

    harness.clients.secretsManager.middlewareStack.remove('recordPut');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ RotationToken: 'rotation-token-from-event', ClientRequestToken: token });
  });

  it('passes the test-only run that RotateImmediately=false makes, leaving AWSCURRENT alone', async () => {
    const arn = await createSecret(harness.clients, harness.name('testonly'), 'initial-testonly-val-01');
    harness.seenValues.add('initial-testonly-val-01');
    const before = await harness.snapshot(arn);
    const [currentVersion] = Object.keys(before.stages);

    await harness.begin(arn, false);
    // Secrets Manager names the version it created for the test run in DescribeSecret, not in the response.
    const pending = Object.entries((await harness.snapshot(arn)).stages).find(([, s]) =>
      s.includes('AWSPENDING'),
    );
    const result = await harness.step('testSecret', arn, pending?.[0] ?? 'no-pending-version');

    expect(result.outcome).toBe('tested');
    const after = await harness.snapshot(arn);
    expect(after.stages[currentVersion ?? '']).toContain('AWSCURRENT');
    expect(after.values[currentVersion ?? '']).toBe('initial-testonly-val-01');
  });

  it('reads the secret once per step and writes only what the step owns', async () => {
    const arn = await createSecret(harness.clients, harness.name('calls'), 'initial-calls-value-001');
    harness.seenValues.add('initial-calls-value-001');
    const token = await harness.begin(arn);
    const recorder = countOperations(harness.clients);

    await harness.step('createSecret', arn, token);
    await harness.step('finishSecret', arn, token);

    harness.clients.secretsManager.middlewareStack.remove('countOperations');
    expect(recorder.calls).toEqual([
      'DescribeSecret',
      'GetSecretValue',
      'GetSecretValue',
      'GetRandomPassword',
      'PutSecretValue',
      'DescribeSecret',
      'UpdateSecretVersionStage',
    ]);
  });

  it('printed log lines and metrics but no secret value', () => {
    const text = output.text();
    expect(text).toContain('"message":"rotation step done"');
    expect(text).toContain('"StepDuration"');
    expect(harness.seenValues.size).toBeGreaterThan(10);
    expect(findLeakedValues(text, harness.seenValues)).toEqual([]);
  });
});
