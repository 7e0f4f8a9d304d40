import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import {
  AwsCallError,
  InvalidEventError,
  RotationPolicyError,
  RotationStateError,
  SecretNotManagedError,
  SecretShapeError,
} from '../../shared/errors';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { countOperations, rotationHarness } from '../support/rotation-harness';

const harness = rotationHarness();
let output: OutputCapture;
const thrownMessages: string[] = [];

beforeAll(() => {
  output = captureOutput();
});
afterAll(() => output.stop());

type Harness = typeof harness;
interface BadCase {
  readonly name: string;
  readonly error: new (...args: never[]) => Error;
  /** Whether the refusal must come before any AWS call. */
  readonly beforeAnyCall: boolean;
  /** Creates what the case needs and returns the event to send and the secret to watch. */
  readonly prepare: (h: Harness) => Promise<{ event: Record<string, unknown>; watch?: string }>;
}

async function rotationStarted(h: Harness, suffix: string, value: string, tags: Record<string, string> = {}) {
  const arn = await createSecret(h.clients, h.name(suffix), value, tags);
  h.seenValues.add(value);
  const token = await h.begin(arn);
  return { arn, token };
}

const TOKEN = '00000000-0000-4000-8000-000000000000';
const cases: BadCase[] = [
  {
    name: 'an event without ClientRequestToken',
    error: InvalidEventError,
    beforeAnyCall: true,
    prepare: async (h) => ({ event: { Step: 'createSecret', SecretId: `${h.prefix}x` } }),
  },
  {
    name: 'an unknown Step',
    error: InvalidEventError,
    beforeAnyCall: true,
    prepare: async (h) => ({
      event: { Step: 'deleteSecret', SecretId: `${h.prefix}x`, ClientRequestToken: TOKEN },
    }),
  },
  {
    name: 'an event that is not an object',
    error: InvalidEventError,
    beforeAnyCall: true,
    prepare: async () => ({ event: 'createSecret' as unknown as Record<string, unknown> }),
  },
  {
    name: 'a secret outside the managed prefixes, by name',
    error: SecretNotManagedError,
    beforeAnyCall: true,
    prepare: async (h) => {
      const arn = await createSecret(h.clients, `unmanaged/${h.name('outside')}`, 'outside-value-000001');
      h.seenValues.add('outside-value-000001');
      return {
        event: { Step: 'createSecret', SecretId: `unmanaged/${h.prefix}`, ClientRequestToken: TOKEN },
        watch: arn,
      };
    },
  },
  {
    name: 'a secret outside the managed prefixes, by ARN',
    error: SecretNotManagedError,
    beforeAnyCall: true,
    prepare: async (h) => {
      const arn = await createSecret(h.clients, `unmanaged/${h.name('outside-arn')}`, 'outside-value-000002');
      h.seenValues.add('outside-value-000002');
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: TOKEN }, watch: arn };
    },
  },
  {
    name: 'a token that is not a version of the secret',
    error: RotationStateError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn } = await rotationStarted(h, 'unknown-token', 'unknown-token-value-01');
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: TOKEN }, watch: arn };
    },
  },
  {
    name: 'a token that is neither AWSCURRENT nor AWSPENDING',
    error: RotationStateError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn } = await rotationStarted(h, 'previous-token', 'previous-token-value-1');
      const previous = Object.keys((await h.snapshot(arn)).stages).find((id) => id !== undefined);
      await h.rotate(arn);
      const stages = (await h.snapshot(arn)).stages;
      const old = Object.entries(stages).find(([, s]) => s.includes('AWSPREVIOUS'))?.[0] ?? previous;
      return { event: { Step: 'finishSecret', SecretId: arn, ClientRequestToken: old }, watch: arn };
    },
  },
  {
    name: 'a secret whose rotation is not enabled',
    error: RotationStateError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const arn = await createSecret(h.clients, h.name('disabled'), 'disabled-rotation-val-1');
      h.seenValues.add('disabled-rotation-val-1');
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: TOKEN }, watch: arn };
    },
  },
  {
    name: 'a value that is not JSON while JSON fields are configured',
    error: SecretShapeError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn, token } = await rotationStarted(h, 'not-json', 'plain-not-json-value-1', {
        'rotator:fields': 'password',
      });
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'a JSON field that is not a string',
    error: SecretShapeError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn, token } = await rotationStarted(h, 'field-type', '{"password":{"nested":"value-12345"}}', {
        'rotator:fields': 'password',
      });
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'a new value over the 64 KB limit',
    error: SecretShapeError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const big = JSON.stringify({ password: 'short-old-password', padding: 'p'.repeat(65_450) });
      const { arn, token } = await rotationStarted(h, 'too-big', big, {
        'rotator:fields': 'password',
        'rotator:length': '200',
      });
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'a binary secret',
    error: SecretShapeError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const out = await h.clients.secretsManager.send(
        new CreateSecretCommand({
          Name: h.name('binary'),
          SecretBinary: Buffer.from('binary-secret-value-1'),
        }),
      );
      const arn = out.ARN ?? '';
      const token = await h.begin(arn);
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'a malformed policy tag',
    error: RotationPolicyError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn, token } = await rotationStarted(h, 'bad-tag', 'bad-tag-policy-value-1', {
        'rotator:length': 'long',
      });
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'an unknown strategy',
    error: RotationPolicyError,
    beforeAnyCall: false,
    prepare: async (h) => {
      const { arn, token } = await rotationStarted(h, 'strategy', 'unknown-strategy-val-1', {
        'rotator:strategy': 'postgres',
      });
      return { event: { Step: 'createSecret', SecretId: arn, ClientRequestToken: token }, watch: arn };
    },
  },
  {
    name: 'a managed secret that does not exist (an API fault)',
    error: AwsCallError,
    beforeAnyCall: false,
    prepare: async (h) => ({
      event: { Step: 'createSecret', SecretId: h.name('missing'), ClientRequestToken: TOKEN },
    }),
  },
];

describe('rotateSecretStep refuses bad input with a typed error and changes nothing', () => {
  it.each(cases)('$name', async ({ error, beforeAnyCall, prepare }) => {
    // Prepare
    const { event, watch } = await prepare(harness);
    const before = watch ? await harness.snapshot(watch) : undefined;
    const recorder = countOperations(harness.clients);

    // Act
    const attempt = harness.step(
      String(event.Step),
      String(event.SecretId),
      String(event.ClientRequestToken),
      event,
    );
    const thrown = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    harness.clients.secretsManager.middlewareStack.remove('countOperations');

    // Assess
    expect(thrown).toBeInstanceOf(error);
    thrownMessages.push((thrown as Error).message);
    if (beforeAnyCall) expect(recorder.calls).toEqual([]);
    expect(recorder.calls.filter((call) => /^(Put|Update|Create|Delete|Rotate)/.test(call))).toEqual([]);
    if (watch) expect(await harness.snapshot(watch)).toEqual(before);
  });

  it('printed no secret value in logs, metrics or error messages', () => {
    const text = `${output.text()}\n${thrownMessages.join('\n')}`;
    expect(text).toContain('"message":"rotation step failed"');
    expect(text).toContain('"StepFailed"');
    expect(findLeakedValues(text, harness.seenValues)).toEqual([]);
  });
});
