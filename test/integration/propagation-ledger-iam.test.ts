/**
 * Least privilege, proven from what is sent: every DynamoDB command the propagation step's ledger
 * calls send to the real table (moto), on their ordinary and their conflict paths, is evaluated by
 * the IAM policy simulator against the step role of the synthesized stack. A ledger call that starts
 * sending a new command fails here until the role is granted it (moto enforces no IAM, so nothing
 * else would: Claim's GetItem of the summary went ungranted this way).
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { ClusterPropagation } from '../../infra/lib/cluster-propagation';
import { RotationLedger } from '../../infra/lib/rotation-ledger';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { LedgerStepDeps } from '../../shared/workflow/ledger-step-deps';
import { rolePolicyDocuments } from '../support/policy-documents';
import { simulatedDecision } from '../support/policy-simulation';
import { TEST_ENV } from '../support/synth-stack';

const TABLE = `ledger-${randomUUID()}`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const NEXT = '1a2b3c4d-3c1d-4a1b-9e2f-123456789abc';
const NOW = new Date('2026-12-01T10:00:00.000Z');
/** The DynamoDB commands the ledger sent, by name (GetItemCommand, UpdateItemCommand, …). */
const sent = new Set<string>();
let dynamodb: DynamoDBClient;
let ledger: DynamoDbLedger;

beforeAll(async () => {
  dynamodb = localClients(inject('motoEndpoint')).dynamodb;
  await createLedgerTable(dynamodb, TABLE);
  // Recorded from here on: the ledger's own commands, not the table's creation.
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      sent.add(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordLedgerCommands' },
  );
  ledger = new DynamoDbLedger(dynamodb, TABLE);
});

type StepLedger = LedgerStepDeps['ledger'];

/**
 * Each ledger call the step's deps allow (a call added to LedgerStepDeps['ledger'] fails to compile
 * until it is exercised here), on a fresh secret, with its second, conflicting use where it has one.
 */
const EXERCISES: Record<keyof StepLedger, (secretName: string) => Promise<unknown>> = {
  registerMove: async (secretName) => {
    const move = { at: NOW.toISOString(), trigger: 'event', actor: 'eventbridge' } as const;
    await ledger.registerMove(secretName, { ...move, versionId: VERSION });
    await ledger.registerMove(secretName, { ...move, versionId: VERSION });
    await ledger.registerMove(secretName, { ...move, versionId: NEXT, fromVersionId: VERSION });
  },
  claimPropagation: async (secretName) => {
    await claim(secretName, 'exec-a');
    await claim(secretName, 'exec-b');
  },
  noteWindowWait: async (secretName) => {
    await claim(secretName, 'exec-a');
    await ledger.noteWindowWait(secretName, KEY, 'exec-a', {
      cluster: 'c1',
      until: '2026-12-01T12:00:00.000Z',
      held: 2,
      notedAt: NOW.toISOString(),
      leaseUntil: '2026-12-01T13:00:00.000Z',
    });
  },
  finishPropagation: async (secretName) => {
    await claim(secretName, 'exec-a');
    const result = {
      status: 'succeeded',
      finishedAt: NOW.toISOString(),
      durationMs: 1,
      clusters: [],
    } as const;
    await ledger.finishPropagation(secretName, KEY, 'exec-a', result);
    // Conflicts: finished already, and not the holder (each refused, after its commands were sent).
    await expect(
      ledger.finishPropagation(secretName, KEY, 'exec-a', result, { onlyInProgress: true }),
    ).rejects.toThrow(/already recorded/);
    await expect(ledger.finishPropagation(secretName, KEY, 'exec-b', result)).rejects.toThrow();
  },
};

const KEY = { versionId: VERSION, moveSeq: 1 };

function claim(secretName: string, executionId: string) {
  return ledger.claimPropagation(
    {
      secretName,
      secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
      ...KEY,
      trigger: 'event',
      actor: 'eventbridge',
      executionId,
      startedAt: NOW.toISOString(),
    },
    { leaseMs: 3600_000, now: NOW },
  );
}

/** The propagation construct with its ledger, as the orchestrator stack wires them (no bundling). */
function synthPropagation(): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: TEST_ENV });
  new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: ['prod/app-team/'],
    clusterNames: ['prod-eu-1'],
    ledger: new RotationLedger(stack, 'Ledger'),
    alertTopic: new sns.Topic(stack, 'Alerts', { enforceSSL: true }),
  });
  return Template.fromStack(stack);
}

describe('the propagation step role allows every ledger command its calls send', () => {
  it('sends only commands the simulator allows the step role on the ledger table', async () => {
    for (const [name, exercise] of Object.entries(EXERCISES)) {
      await exercise(`prod/app-team/iam-${name}-${randomUUID().slice(0, 8)}`);
    }
    const actions = [...sent].map((command) => `dynamodb:${command.replace(/Command$/, '')}`).sort();
    // The calls above must reach the table at all, or this test proves nothing.
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );

    const template = synthPropagation();
    const tables = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    const [tableId = ''] = tables;
    expect(tables).toHaveLength(1);
    const tableArn = `arn:aws:dynamodb:${TEST_ENV.region}:${TEST_ENV.account}:table/${TABLE}`;
    // Every other resource the role's statements name gets an ARN of its own that is not the table's.
    const others = Object.keys(template.toJSON().Resources as object).map(
      (id) => [id, `arn:aws:logs:${TEST_ENV.region}:${TEST_ENV.account}:log-group:${id}:*`] as const,
    );
    const policies = rolePolicyDocuments(template, /^PropagationRole/, {
      ...Object.fromEntries(others),
      'AWS::Partition': 'aws',
      'AWS::AccountId': TEST_ENV.account,
      'AWS::Region': TEST_ENV.region,
      [tableId]: tableArn,
      [`${tableId}.Arn`]: tableArn,
    });
    expect(policies.length).toBeGreaterThan(0);
    const decisions = await Promise.all(
      actions.map(async (action) => [
        action,
        await simulatedDecision({
          identityPolicies: policies,
          principal: `arn:aws:iam::${TEST_ENV.account}:role/propagation-step`,
          action,
          resource: tableArn,
          accountId: TEST_ENV.account,
          context: {},
        }),
      ]),
    );
    expect(Object.fromEntries(decisions)).toEqual(Object.fromEntries(actions.map((a) => [a, 'Allowed'])));
  });
});
