import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BundleHost } from '../../scripts/local/bundle-host';
import { localAwsEnvironment } from '../../scripts/local/local-aws';
import { localEksCluster } from '../../scripts/local/local-eks';
import { createLedgerTable } from '../../scripts/local/local-ledger';
import { synthLocalStack } from '../../scripts/local/local-stack';
import {
  definitionFromTemplate,
  type LocalExecution,
  LocalWorkflow,
} from '../../scripts/local/local-workflow';
import { LOCAL_AWS } from '../../scripts/local/moto-server';
import { createSecret } from '../../scripts/local/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { ANNOTATIONS } from '../../shared/propagation/consumer-annotations';
import { clusterFixture } from '../support/cluster-fixture';
import { findLeakedValues } from '../support/output-capture';

/**
 * The synthesized state machine definition, executed locally by aws-local-stepfunctions with every
 * Lambda Task bound to the bundled propagation-step artifact (its own Node 24 process, production
 * code path: DescribeCluster and EKS token against moto, the real local cluster and ESO, the ledger
 * in moto's DynamoDB) and the Alert task publishing to moto's SNS.
 */
const fx = clusterFixture();
const motoEndpoint = inject('motoEndpoint');
const CLUSTER = inject('eksClusterName');
const PREFIX = `wf-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID().slice(0, 8)}`;
const VALUES: string[] = [];
const clientConfig = { endpoint: motoEndpoint, region: LOCAL_AWS.region, credentials: LOCAL_AWS.credentials };
const ledger = new DynamoDbLedger(fx.aws.dynamodb, TABLE);
let host: BundleHost;
let workflow: LocalWorkflow;
let hostOutput = '';
let alertQueueUrl: string;

function value(): string {
  const v = `wf-value-${randomUUID()}`;
  VALUES.push(v);
  return JSON.stringify({ password: v });
}

async function rotate(secretId: string): Promise<string> {
  const out = await fx.aws.secretsManager.send(
    new PutSecretValueCommand({ SecretId: secretId, SecretString: value() }),
  );
  return out.VersionId as string;
}

function run(name: string, secretId: string, versionId: string, extra: object = {}): Promise<LocalExecution> {
  return workflow.run(name, { secretId, versionId, trigger: 'event', actor: 'test', ...extra });
}

async function podTemplate(namespace: string, name: string) {
  const apps = fx.admin.makeApiClient(AppsV1Api);
  const d = await apps.readNamespacedDeployment({ namespace, name });
  return { generation: d.metadata?.generation, annotations: d.spec?.template.metadata?.annotations ?? {} };
}

/** An ExternalSecret for `secretId` and the given Deployments consuming its Secret via envFrom. */
async function consumers(secretId: string, names: string[], failing: string[] = []) {
  const namespace = await fx.namespaceWithStore('wf');
  await fx.externalSecret(namespace, 'db', secretId);
  await fx.externalSecretReady(namespace, 'db');
  await fx.consumingDeployments(namespace, 'db-secret', names, failing);
  return namespace;
}

async function alertsReceived(): Promise<{ Subject?: string; Message: string }[]> {
  const sqs = new SQSClient(clientConfig);
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
}

const debug = (what: string) => process.env.WF_DEBUG && process.stderr.write(`[wf] ${what}\n`);

beforeAll(async () => {
  debug('start');
  await localEksCluster(motoEndpoint, {
    name: CLUSTER,
    server: inject('clusterServer'),
    caFile: inject('clusterCaFile'),
  });
  debug('eks');
  await createLedgerTable(fx.aws.dynamodb, TABLE);
  debug('ledger');
  const sns = new SNSClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: `alerts-${randomUUID().slice(0, 8)}` })))
    .TopicArn as string;
  alertQueueUrl = (
    await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${randomUUID().slice(0, 8)}` }))
  ).QueueUrl as string;
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn as string;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));

  const local = synthLocalStack({
    managedPrefixes: [PREFIX],
    propagation: { clusterNames: [CLUSTER], restartConcurrency: 1 },
  });
  debug('synth');
  const step = local.bundles.step;
  if (!step) throw new Error('no propagation-step bundle');
  const environment = Object.fromEntries(
    Object.entries(step.environment).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  host = new BundleHost(
    step.directory,
    'propagation-step',
    {
      PATH: process.env.PATH ?? '',
      ...environment,
      ...localAwsEnvironment(motoEndpoint),
      ROTATOR_LEDGER_TABLE: TABLE,
      ROTATOR_SYNC_TIMEOUT_SECONDS: '60',
      ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '60',
      ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '1',
    },
    (chunk) => {
      hostOutput += chunk;
    },
  );
  expect(await host.nodeVersion()).toMatch(/^v24\./);
  debug('host');
  const stepArn = `arn:aws:lambda:us-east-1:123456789012:function:${step.logicalId}`;
  const { definition } = definitionFromTemplate(local.template, ({ logicalId }) =>
    local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
      ? topicArn
      : `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`,
  );
  workflow = new LocalWorkflow(definition, {
    awsEndpoint: motoEndpoint,
    invokeLambda: (arn, payload) => {
      expect(arn).toBe(stepArn);
      return host.invoke(payload);
    },
    waitOverrides: { WaitForSync: 500, WaitForRollout: 500 },
  });
}, 180_000);

afterAll(async () => {
  await host?.stop();
});

describe('the propagation workflow (synthesized definition, bundled steps, real cluster)', () => {
  const secretId = `${PREFIX}orders`;
  let namespace: string;
  let versionId: string;

  beforeAll(async () => {
    await createSecret(fx.aws, secretId, value());
    namespace = await consumers(secretId, ['api', 'worker']);
    await fx.workload('Deployment', namespace, 'bystander', { containers: [{ name: 'app' }] });
    versionId = await rotate(secretId);
  }, 120_000);

  it('carries a new version through resync, restarts and rollouts, and records it', async () => {
    const execution = await run('first', secretId, versionId);

    expect(execution.error, JSON.stringify(execution.failedWith)).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    for (const state of [
      'Claim',
      'Plan',
      'Resync',
      'CheckSync',
      'Restart',
      'CheckRollout',
      'FinishCluster',
      'Record',
      'Propagated',
    ]) {
      expect(execution.states).toContain(state);
    }
    const marker = `${secretId}@${versionId}`;
    for (const name of ['api', 'worker']) {
      expect((await podTemplate(namespace, name)).annotations[ANNOTATIONS.restartedFor]).toBe(marker);
    }
    expect((await podTemplate(namespace, 'bystander')).annotations[ANNOTATIONS.restartedFor]).toBeUndefined();
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(VALUES.at(-1));
    const [entry] = await ledger.history(secretId);
    expect(entry).toMatchObject({
      kind: 'propagation',
      versionId,
      status: 'succeeded',
      executionId: 'first',
    });
    const restarted = entry?.kind === 'propagation' ? entry.clusters?.[0]?.restarted : undefined;
    expect([...(restarted ?? [])].sort()).toEqual([
      `Deployment/${namespace}/api`,
      `Deployment/${namespace}/worker`,
    ]);
  });

  it('replayed three more times, the same version propagates once', async () => {
    const before = await podTemplate(namespace, 'api');
    const replays = [];
    for (const name of ['replay-1', 'replay-2', 'replay-3'])
      replays.push(await run(name, secretId, versionId));

    for (const replay of replays) {
      expect(replay.status).toBe('SUCCEEDED');
      expect(replay.states).toContain('AlreadyClaimed');
      expect(replay.states).not.toContain('Restart');
    }
    expect((await podTemplate(namespace, 'api')).generation).toBe(before.generation);
    const propagations = (await ledger.history(secretId)).filter((e) => e.kind === 'propagation');
    expect(propagations).toHaveLength(1);
  });

  it('two executions for a new version at once give one propagation and one restart per workload', async () => {
    const before = await Promise.all(['api', 'worker'].map((n) => podTemplate(namespace, n)));
    const next = await rotate(secretId);

    const [a, b] = await Promise.all([run('together-a', secretId, next), run('together-b', secretId, next)]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect([a, b].filter((e) => e.states.includes('Record'))).toHaveLength(1);
    expect([a, b].filter((e) => e.states.includes('AlreadyClaimed'))).toHaveLength(1);
    const after = await Promise.all(['api', 'worker'].map((n) => podTemplate(namespace, n)));
    after.forEach((template, i) => {
      expect(template.generation).toBe((before[i]?.generation ?? 0) + 1);
      expect(template.annotations[ANNOTATIONS.restartedFor]).toBe(`${secretId}@${next}`);
    });
  });

  it('an emergency rotation restarts at the emergency concurrency (bounded) and retires the previous version', async () => {
    const previous = versionId;
    const next = await rotate(secretId);
    const current = await fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    const holder = Object.entries(current.VersionIdsToStages ?? {}).find(([, s]) =>
      s.includes('AWSPREVIOUS'),
    )?.[0];
    expect(holder).toBeDefined();

    const execution = await run('emergency', secretId, next, {
      emergency: true,
      retirePrevious: true,
      trigger: 'emergency',
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states).toContain('RetirePrevious');
    // The deployment's default emergency concurrency: raised from restartConcurrency 1, never unlimited (0).
    expect((execution.output as { claim: { maxConcurrency: number } }).claim.maxConcurrency).toBe(20);
    const after = await fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(after.VersionIdsToStages?.[holder as string] ?? []).not.toContain('AWSPREVIOUS');
    expect(after.VersionIdsToStages?.[next]).toContain('AWSCURRENT');
    expect(previous).not.toBe(next);
  });
});

describe('the workflow’s failure paths', () => {
  it('a failed rollout stops the restarts not begun, records the failure and alerts', async () => {
    const secretId = `${PREFIX}payments`;
    await createSecret(fx.aws, secretId, value());
    const namespace = await consumers(secretId, ['a-fails', 'b-later'], ['a-fails']);
    const versionId = await rotate(secretId);

    const execution = await run('fails', secretId, versionId);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.name).toBe('PropagationFailed');
    expect(execution.states).toContain('Alert');
    expect((await podTemplate(namespace, 'b-later')).annotations[ANNOTATIONS.restartedFor]).toBeUndefined();
    const [entry] = await ledger.history(secretId);
    expect(entry).toMatchObject({ kind: 'propagation', status: 'failed', versionId });
    const failed = entry?.kind === 'propagation' ? entry.clusters?.[0]?.failed.join(' ') : '';
    expect(failed).toContain('RolloutFailedError');
    const restarted = entry?.kind === 'propagation' ? entry.clusters?.[0]?.restarted : undefined;
    expect(restarted).toEqual([`Deployment/${namespace}/a-fails`]);
    const alerts = await alertsReceived();
    expect(alerts.some((a) => a.Subject === `Propagation failed: ${secretId}`)).toBe(true);
  });

  it('refuses a secret outside the managed prefixes: nothing recorded, an alert sent', async () => {
    const execution = await run('unmanaged', 'other-team/db', 'a'.repeat(36));

    expect(execution.status).toBe('FAILED');
    expect(execution.states).toEqual(
      expect.arrayContaining(['Claim', 'RecordFailure', 'Alert', 'PropagationFailed']),
    );
    expect(execution.states).not.toContain('Plan');
    expect(await ledger.history('other-team/db')).toEqual([]);
    const alerts = await alertsReceived();
    expect(alerts.some((a) => a.Message.includes('SecretNotManagedError'))).toBe(true);
  });

  it('never lets a secret value reach the steps’ logs', () => {
    expect(hostOutput.length).toBeGreaterThan(0);
    expect(findLeakedValues(hostOutput, VALUES)).toEqual([]);
  });
});
