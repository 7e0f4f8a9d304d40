import { randomUUID } from 'node:crypto';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  type RotateSecretCommandInput,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalClients, localClients } from '../../harness/local-aws';
import { createSecret, ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import { runSweep, type SweepConfig } from '../../shared/sweep/run-sweep';
import { scheduleRuleOf } from '../../shared/sweep/schedule-rules';
import { idleRotatingSecret, stagesOf } from '../support/rotation-request-fixture';

const clients = localClients(inject('motoEndpoint'));
const PREFIX = `sweep-schedules-${randomUUID().slice(0, 6)}/`;
let placeholder: string;

/**
 * Clients of their own that record every Secrets Manager call by name, and each RotateSecret's
 * input, so a test sees what the sweep sent and that it made no call per secret.
 */
function recordingClients(): LocalClients & { calls: string[]; rotateInputs: RotateSecretCommandInput[] } {
  const own = localClients(inject('motoEndpoint'));
  const calls: string[] = [];
  const rotateInputs: RotateSecretCommandInput[] = [];
  own.secretsManager.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      if (context.commandName === 'RotateSecretCommand') {
        rotateInputs.push(structuredClone(args.input as RotateSecretCommandInput));
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return { ...own, calls, rotateInputs };
}

/** The sweep with nothing overdue (now), enforcing schedules with `functionArn` (the placeholder). */
function sweep(
  own: LocalClients,
  prefix: string,
  { stackScheduled = [] as string[], functionArn = placeholder } = {},
) {
  const config: SweepConfig = {
    managedPrefixes: [prefix],
    graceMs: 86_400_000,
    stuckAfterMs: 3_600_000,
    maxRotationsPerRun: 10,
    repairStuck: false,
    maxPropagationsPerRun: 10,
    propagationLeaseMs: 3_600_000,
    schedules: {
      rotationFunctionArn: functionArn,
      // The team's secrets every 30 days; nothing for `other/` but what tags ask for.
      rules: [scheduleRuleOf({ prefix: `${prefix}team/`, automaticallyAfterDays: 30 })],
      stackScheduled: new Set(stackScheduled),
      maxPerRun: 10,
    },
  };
  return runSweep({
    port: new SecretsManagerAdapter(own.secretsManager),
    config,
    logger: createLogger(),
    metrics: createMetrics(),
    now: new Date(),
  });
}

async function rotationOf(secretId: string) {
  const d = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  return {
    enabled: d.RotationEnabled,
    lambda: d.RotationLambdaARN,
    days: d.RotationRules?.AutomaticallyAfterDays,
  };
}

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
});

describe('the sweep enforcing rotation schedules against Secrets Manager (moto over HTTP)', () => {
  it('schedules a new secret under a rule and a tagged one, leaves a matching one, a stack one and a bad tag alone', async () => {
    // Prepare
    const prefix = `${PREFIX}mixed/`;
    const ruled = await createSecret(clients, `${prefix}team/new-db`, 'value-100001');
    const tagged = await createSecret(clients, `${prefix}other/tagged`, 'value-100002', {
      'rotator:schedule': '7d',
    });
    const matching = await idleRotatingSecret(clients, `${prefix}team/matching`, 'value-100003', placeholder);
    await createSecret(clients, `${prefix}team/by-the-stack`, 'value-100004');
    await createSecret(clients, `${prefix}other/bad-tag`, 'value-100005', { 'rotator:schedule': 'monthly' });
    await createSecret(clients, `${prefix}other/untouched`, 'value-100006');
    const before = { ruled: await stagesOf(clients, ruled), tagged: await stagesOf(clients, tagged) };
    const matchingBefore = await rotationOf(matching.arn);
    const own = recordingClients();

    // Act
    const report = await sweep(own, prefix, { stackScheduled: [`${prefix}team/by-the-stack`] });

    // Assess: what the sweep did, and that it made no call per secret besides the two it configured.
    expect(report.schedulesEnforced).toBe(true);
    expect([...report.schedulesConfigured].sort((a, b) => a.secret.localeCompare(b.secret))).toEqual([
      {
        secret: `${prefix}other/tagged`,
        source: 'tag rotator:schedule',
        reason: 'rotation off → every 7 days',
      },
      {
        secret: `${prefix}team/new-db`,
        source: `rule ${prefix}team/`,
        reason: 'rotation off → every 30 days',
      },
    ]);
    expect(report.scheduleFailures).toEqual([
      {
        secret: `${prefix}other/bad-tag`,
        error: 'Tag rotator:schedule must be days (e.g. 30d, 1–1000), rate(…) or cron(…)',
      },
    ]);
    expect(own.calls).toEqual(['ListSecrets', 'RotateSecret', 'RotateSecret']);
    expect(own.rotateInputs.sort((a, b) => String(a.SecretId).localeCompare(String(b.SecretId)))).toEqual(
      [
        {
          SecretId: tagged,
          RotationLambdaARN: placeholder,
          RotationRules: { AutomaticallyAfterDays: 7 },
          RotateImmediately: false,
        },
        {
          SecretId: ruled,
          RotationLambdaARN: placeholder,
          RotationRules: { AutomaticallyAfterDays: 30 },
          RotateImmediately: false,
        },
      ].sort((a, b) => a.SecretId.localeCompare(b.SecretId)),
    );

    // Secrets Manager now has the schedules, and rotated nothing: AWSCURRENT stayed where it was.
    expect(await rotationOf(ruled)).toEqual({ enabled: true, lambda: placeholder, days: 30 });
    expect(await rotationOf(tagged)).toEqual({ enabled: true, lambda: placeholder, days: 7 });
    expect((await stagesOf(clients, ruled)).current).toBe(before.ruled.current);
    expect((await stagesOf(clients, tagged)).current).toBe(before.tagged.current);
    expect(await rotationOf(matching.arn)).toEqual(matchingBefore);
    expect(await rotationOf(`${prefix}team/by-the-stack`)).toMatchObject({ enabled: undefined });
    expect(await rotationOf(`${prefix}other/untouched`)).toMatchObject({ enabled: undefined });
  });

  it('configures nothing on the next run once the schedules match', async () => {
    // Prepare: the first run sets both schedules.
    const prefix = `${PREFIX}again/`;
    await createSecret(clients, `${prefix}team/db`, 'value-100007');
    await createSecret(clients, `${prefix}other/tagged`, 'value-100008', { 'rotator:schedule': '14d' });
    const first = await sweep(recordingClients(), prefix);
    expect(first.schedulesConfigured).toHaveLength(2);
    const own = recordingClients();

    // Act
    const second = await sweep(own, prefix);

    // Assess. (Moto keeps the AWSPENDING copy its testSecret-only run made, which AWS removes, so
    // this run also sees both secrets as rotations in progress; the schedules match before that matters.)
    expect(second.schedulesConfigured).toEqual([]);
    expect(second.scheduleFailures).toEqual([]);
    expect(own.calls).not.toContain('RotateSecret');
  });

  it('takes a secret over from another rotation function only when the secret opts in (review M6)', async () => {
    // Prepare: a secret on the rule's 30 days, rotated by the placeholder; the orchestrator's is another.
    const prefix = `${PREFIX}takeover/`;
    const { arn } = await idleRotatingSecret(clients, `${prefix}team/db`, 'value-100009', placeholder);
    const orchestratorFunction = await secondRotationFunction();
    const without = recordingClients();

    // Act and assess: without the tag, left to its function and reported.
    const untouched = await sweep(without, prefix, { functionArn: orchestratorFunction });
    expect(untouched.schedulesConfigured).toEqual([]);
    expect(untouched.schedulesLeftToOtherFunctions).toEqual([`${prefix}team/db`]);
    expect(without.calls).not.toContain('RotateSecret');
    expect(await rotationOf(arn)).toEqual({ enabled: true, lambda: placeholder, days: 30 });

    // Act: with the opt-in tag.
    await clients.secretsManager.send(
      new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'rotator:take-over', Value: 'true' }] }),
    );
    const own = recordingClients();
    const report = await sweep(own, prefix, { functionArn: orchestratorFunction });

    // Assess
    expect(report.schedulesConfigured).toEqual([
      { secret: `${prefix}team/db`, source: `rule ${prefix}team/`, reason: 'rotated by another function' },
    ]);
    expect(own.rotateInputs.map((i) => i.RotationLambdaARN)).toEqual([orchestratorFunction]);
    expect(await rotationOf(arn)).toEqual({ enabled: true, lambda: orchestratorFunction, days: 30 });
  });
});

/** A second function in moto (the placeholder's role, an empty zip: moto runs no code). */
async function secondRotationFunction(): Promise<string> {
  const FunctionName = `rotation-other-${randomUUID().slice(0, 6)}`;
  const role = await clients.iam.send(new GetRoleCommand({ RoleName: 'rotation-placeholder-role' }));
  const created = await clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName,
      Runtime: 'nodejs24.x',
      Role: role.Role?.Arn,
      Handler: 'index.handler',
      Code: { ZipFile: Uint8Array.from([80, 75, 5, 6, ...new Array<number>(18).fill(0)]) },
    }),
  );
  return created.FunctionArn ?? '';
}
