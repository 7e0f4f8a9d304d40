/**
 * Fault rows T and U (review section 4), on the rotation side of a propagation:
 * - T: the rotation's testSecret fails (every GetSecretValue answered 500 by the AWS fault proxy,
 *   through the SDK's retries and three invocations, as Secrets Manager retries a step), so the
 *   rotation is stuck on AWSPENDING. Secrets Manager's RotationFailed event (shaped as AWS
 *   documents it) reaches the alert topic through the synthesized rule (moto's EventBridge); once
 *   the fault is gone the sweep, its clock past stuckAfter and the schedule, removes the stale
 *   AWSPENDING and rotates the overdue secret again; the new version is propagated.
 * - U: a forged emergency: the custom request event put on the default bus (where anyone in the
 *   account may put events) instead of the request bus, and a payload shaped like a function URL
 *   request invoked on the request function directly. Both refused: nothing rotated, nothing
 *   recorded, no restart.
 * The rotation function and the request function run in this process against the proxy (the
 * rotation) or moto; the propagation is the harness's bundled step. Each row ends with the oracle.
 */
import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import { LOCAL_AWS } from '../../harness/moto-server';
import { ensurePlaceholderRotationFunction, startRotation } from '../../harness/rotation-fixture';
import { RotationAlerts } from '../../infra/lib/rotation-alerts';
import { RotationRequests } from '../../infra/lib/rotation-requests';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { generatedStrategies } from '../../shared/rotation/default-strategies';
import { rotateSecretStep } from '../../shared/rotation/rotate-secret-step';
import { ROTATION_STEPS } from '../../shared/rotation/rotation-event';
import { runSweep } from '../../shared/sweep/run-sweep';
import { faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow } from '../support/fault-matrix';
import { deliveries, installRules, motoBus } from '../support/moto-event-bus';
import { resolveIntrinsics } from '../support/policy-documents';
import { keepConfiguredRotationFunction } from '../support/rotation-request-fixture';

vi.stubEnv('CDK_VALIDATION', 'false');
const wf = faultHarness({ restartConcurrency: 2 });
const ACCOUNT = LOCAL_AWS.accountId;
const DAY = 86_400_000;

/** A synthesized construct's one rule with this name in its id: its pattern and bus, intrinsics resolved. */
function synthesizedRule(build: (stack: Stack) => void, id: RegExp) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Row', { env: { account: ACCOUNT, region: LOCAL_AWS.region } });
  build(stack);
  const template = Template.fromStack(stack);
  const rules = Object.entries(template.findResources('AWS::Events::Rule')).filter(([logicalId]) =>
    id.test(logicalId),
  );
  expect(rules).toHaveLength(1);
  const [, rule] = rules[0] as [string, { Properties: { EventPattern: unknown; EventBusName?: unknown } }];
  const refs = Object.fromEntries([
    ['AWS::Partition', 'aws'],
    ...Object.entries(template.findResources('AWS::Events::EventBus')).map(([busId, bus]) => [
      busId,
      bus.Properties.Name,
    ]),
  ]);
  return {
    pattern: resolveIntrinsics(rule.Properties.EventPattern, refs),
    eventBusName: resolveIntrinsics(rule.Properties.EventBusName, refs) as string | undefined,
  };
}

/** The AWSPENDING and AWSCURRENT versions of a secret. */
async function stages(secretId: string) {
  const described = await wf.fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const all = Object.entries(described.VersionIdsToStages ?? {});
  return {
    current: all.find(([, s]) => s.includes('AWSCURRENT'))?.[0],
    pending: all.find(([, s]) => s.includes('AWSPENDING'))?.[0],
  };
}

describe('fault matrix, rotations', () => {
  it('T: testSecret fails (GetSecretValue 500), the rotation is stuck: alerted, repaired by the sweep, re-rotated', async () => {
    const row = faultRow(wf, 'T', 'testSecret fails (GetSecretValue 500 ×3 invocations)');
    const s = await row.secret('stuck');
    const secretArn = (
      await wf.fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: s.secretId }))
    ).ARN as string;
    const proxy = wf.awsCalls.proxy();
    // The rotation function's and the sweep's Secrets Manager calls go through the proxy (counted).
    const proxied = localClients(proxy.endpoint);
    const placeholder = await ensurePlaceholderRotationFunction(wf.fx.aws);
    keepConfiguredRotationFunction(proxied, placeholder);
    const secrets = new SecretsManagerAdapter(proxied.secretsManager);
    // The harness's secrets are JSON with a `password` field: the generated strategy regenerates it.
    const config = { managedPrefixes: [wf.prefix], defaultPasswordPolicy: { fields: ['password'] } };
    const deps = {
      config,
      secrets,
      strategies: generatedStrategies(secrets, config),
      logger: createLogger(),
      metrics: createMetrics(),
    };
    const step = (Step: string, token: string) =>
      rotateSecretStep({ Step, SecretId: secretArn, ClientRequestToken: token }, deps);

    // Oracle 7's baseline for this row: one fault-free rotation through the same four steps and
    // its propagation, of another secret with the same consumers, counted at the proxy.
    const control = await wf.secret(`t-control-${Date.now()}`);
    await wf.consumers(control, ['api', 'worker']);
    const controlArn = (await wf.fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: control })))
      .ARN as string;
    const mark = wf.awsCalls.mark();
    const controlToken = await startRotation(wf.fx.aws, controlArn, placeholder);
    for (const name of ROTATION_STEPS)
      await rotateSecretStep({ Step: name, SecretId: controlArn, ClientRequestToken: controlToken }, deps);
    expect((await wf.run(`T-control-${controlToken}`, control, controlToken)).status).toBe('SUCCEEDED');
    const byTarget = wf.awsCalls.since(mark);
    row.useBaseline({ perRotation: Object.values(byTarget).reduce((a, b) => a + b, 0), byTarget });

    // The rotation, as Secrets Manager runs it: createSecret and setSecret pass, testSecret fails.
    const stuck = await startRotation(wf.fx.aws, secretArn, placeholder);
    await step('createSecret', stuck);
    await step('setSecret', stuck);
    proxy.setRules([{ target: /^secretsmanager\.GetSecretValue$/, rate: 1, fault: '500' }]);
    const refused: string[] = [];
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        await step('testSecret', stuck).catch((error: Error) => refused.push(error.name));
      }
    } finally {
      proxy.setRules([]);
    }
    expect(refused).toHaveLength(3);
    expect((await stages(s.secretId)).pending).toBe(stuck);

    // Secrets Manager's RotationFailed event (CloudTrail shape) reaches the topic's rule.
    const alerts = synthesizedRule(
      (stack) => new RotationAlerts(stack, 'Alerts', { managedPrefixes: [wf.prefix] }),
      /RotationFailed/,
    );
    const bus = motoBus(inject('motoEndpoint'), ACCOUNT);
    const run = `${Date.now()}`;
    await installRules(bus, `rotation-failed-${run}`, [{ name: `rotation-failed-${run}`, ...alerts }]);
    const alerted = await deliveries(bus, {
      Source: 'aws.secretsmanager',
      DetailType: 'AWS Service Event via CloudTrail',
      Detail: JSON.stringify({
        eventVersion: '1.08',
        userIdentity: { accountId: ACCOUNT, invokedBy: 'secretsmanager.amazonaws.com' },
        eventTime: new Date().toISOString(),
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'RotationFailed',
        awsRegion: LOCAL_AWS.region,
        sourceIPAddress: 'secretsmanager.amazonaws.com',
        userAgent: 'secretsmanager.amazonaws.com',
        requestParameters: null,
        responseElements: null,
        additionalEventData: { SecretId: secretArn },
        eventType: 'AwsServiceEvent',
        managementEvent: true,
        recipientAccountId: ACCOUNT,
      }),
    });
    expect(alerted).toBe(1);

    // The sweep, its clock 40 days on (past stuckAfter and the 30-day schedule), repairs and rotates.
    const report = await runSweep({
      port: secrets,
      config: {
        managedPrefixes: [s.secretId],
        graceMs: DAY,
        stuckAfterMs: 3_600_000,
        maxRotationsPerRun: 10,
        repairStuck: true,
        maxPropagationsPerRun: 10,
        propagationLeaseMs: 3_600_000,
      },
      logger: createLogger(),
      metrics: createMetrics(),
      now: new Date(Date.now() + 40 * DAY),
    });
    expect(report.repaired).toEqual([{ secret: s.secretId, pendingVersionId: stuck }]);
    expect(report.rotationsStarted.map((r) => r.secret)).toEqual([s.secretId]);
    const token = (await stages(s.secretId)).pending;
    expect(token).toBeDefined();
    expect(token).not.toBe(stuck);
    for (const name of ROTATION_STEPS) await step(name, token as string);
    const { current } = await stages(s.secretId);
    expect(current).toBe(token);
    s.versions.push(current as string);
    // The new value joins the leak check (the generated strategy made it, not the harness).
    (wf.values as string[]).push(
      (
        JSON.parse(
          (await wf.fx.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: s.secretId })))
            .SecretString as string,
        ) as {
          password: string;
        }
      ).password,
    );
    const execution = await row.run(s, current as string);
    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    await row.quiesce();
    row.note(
      `testSecret refused 3× (${[...new Set(refused)].join(', ')}); RotationFailed delivered by the rule: ${alerted}; ` +
        `sweep repaired 1 and re-rotated 1`,
    );
    proxied.secretsManager.destroy();
    expectOracle(await row.oracle());
  });

  it('U: a forged emergency (custom event on the default bus, URL-shaped direct invoke): refused, nothing rotated', async () => {
    const row = faultRow(
      wf,
      'U',
      'forged emergency: request event on the default bus; URL-shaped direct invoke',
    );
    const s = await row.secret('forged');
    const before = await stages(s.secretId);
    const generation = (await wf.podTemplate(s.namespace, 'api')).generation;

    // 1. The custom event, emergency asked, on the default bus: the request rule is on its own bus.
    const busName = `rotation-requests-${Date.now()}`;
    const requests = synthesizedRule(
      (stack) =>
        new RotationRequests(stack, 'Requests', {
          managedPrefixes: [wf.prefix],
          rotationFunction: lambda.Function.fromFunctionArn(
            stack,
            'Rotate',
            `arn:aws:lambda:${LOCAL_AWS.region}:${ACCOUNT}:function:r`,
          ),
          ledger: { tableName: 'rotation-ledger', grantRecordRotation: () => {}, grantRead: () => {} },
          eventBusName: busName,
        }),
      /Requested/,
    );
    expect(requests.eventBusName).toBe(busName);
    const bus = motoBus(inject('motoEndpoint'), ACCOUNT);
    await installRules(bus, `forged-${Date.now()}`, [{ name: `requests-${Date.now()}`, ...requests }]);
    const entry = {
      Source: ROTATION_REQUEST_SOURCE,
      DetailType: ROTATION_REQUEST_DETAIL_TYPE,
      Detail: JSON.stringify({
        secretId: s.secretId,
        reason: 'forged',
        emergency: true,
        retirePrevious: true,
      }),
    };
    const onDefault = await deliveries(bus, entry);
    // The same event on the request bus is delivered (the rule works), and the function refuses
    // its emergency flag (below).
    const onRequestBus = await deliveries(bus, { ...entry, EventBusName: busName });

    // 2. The request function, invoked directly with that event and with a function-URL-shaped payload.
    vi.resetModules();
    for (const [key, value] of Object.entries({
      ...localAwsEnvironment(inject('motoEndpoint')),
      ROTATOR_MANAGED_PREFIXES: wf.prefix,
      ROTATOR_LEDGER_TABLE: wf.ledgerTable,
    }))
      vi.stubEnv(key, value);
    const { handler } = await import('../../functions/rotation-request/handler');
    const forgedUrl = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/',
      headers: { 'content-type': 'application/json' },
      requestContext: {
        accountId: ACCOUNT,
        authorizer: { iam: { accountId: ACCOUNT, userArn: `arn:aws:iam::${ACCOUNT}:role/forger` } },
        http: { method: 'POST', path: '/' },
      },
      body: JSON.stringify({ secretId: s.secretId, reason: 'forged', emergency: true }),
      isBase64Encoded: false,
    };
    const requestEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': ROTATION_REQUEST_DETAIL_TYPE,
      source: ROTATION_REQUEST_SOURCE,
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: LOCAL_AWS.region,
      resources: [],
      detail: JSON.parse(entry.Detail),
    };
    const refusals: string[] = [];
    for (const event of [forgedUrl, requestEvent]) {
      await handler(event as never, localLambdaContext('rotation-request')).then(
        () => refusals.push('accepted'),
        (error: Error) => refusals.push(error.name),
      );
    }
    vi.unstubAllEnvs();
    vi.stubEnv('CDK_VALIDATION', 'false');

    expect(onDefault).toBe(0);
    expect(onRequestBus).toBe(1);
    expect(refusals).toEqual(['InvalidEventError', 'InvalidEventError']);
    expect(await stages(s.secretId)).toEqual(before);
    expect((await wf.ledger.history(s.secretId)).filter((e) => e.kind === 'rotation')).toEqual([]);
    expect((await wf.podTemplate(s.namespace, 'api')).generation).toBe(generation);
    row.note(
      `default bus: ${onDefault} deliveries (request bus: ${onRequestBus}); direct invokes refused: ${refusals.join(', ')}`,
    );
    // Nothing moved (no rotation in this row): the secret is at its first version, which the
    // oracle finds converged once its first propagation has run.
    await row.run(s, before.current as string);
    expectOracle(await row.oracle());
  });
});
