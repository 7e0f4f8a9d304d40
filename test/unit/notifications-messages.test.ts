import { describe, expect, it } from 'vitest';
import type { PropagationRecord } from '../../shared/ledger/ledger-port';
import type { ExecutionEnded } from '../../shared/notifications/execution-status-event';
import {
  formatDuration,
  MAX_CLUSTER_LINES,
  summarize,
} from '../../shared/notifications/notification-summary';
import { planNotification, recordOfExecution } from '../../shared/notifications/propagation-notification';
import { slackMessage } from '../../shared/notifications/slack-message';
import { teamsMessage } from '../../shared/notifications/teams-message';

const SECRET = 'prod/app-team/orders_db';
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const PREVIOUS = '11111111-2222-4333-8444-555555555555';
const EXECUTION = 'prod-app-team-orders_db-1a2b3c4d-0f8b5a8e-3c1d-4a1b-9e2f-123456789abc-m2';
/** What a Kubernetes answer or a value could put in the ledger's free text: never in a message. */
const KUBERNETES_BODY =
  '{"kind":"Status","message":"admission webhook denied: env DB_PASSWORD=hunter2-not-a-name"}';
const SECRET_VALUE = 'hunter2-not-a-name';

function ended(status: ExecutionEnded['status'], errorName?: string): ExecutionEnded {
  return {
    executionName: EXECUTION,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation',
    status,
    secretId: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`,
    versionId: VERSION,
    durationMs: 9_000,
    ...(errorName ? { errorName } : {}),
  };
}

function record(status: PropagationRecord['status'], failedCluster = false): PropagationRecord {
  return {
    secretName: SECRET,
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`,
    versionId: VERSION,
    moveSeq: 2,
    fromVersionId: PREVIOUS,
    trigger: 'scheduled',
    actor: 'scheduler',
    reason: `operator wrote ${SECRET_VALUE} here`,
    executionId: EXECUTION,
    startedAt: '2026-11-30T12:00:00.000Z',
    status,
    durationMs: 125_000,
    ...(status === 'failed' ? { error: `PropagationFailed: ${KUBERNETES_BODY}` } : {}),
    clusters: [
      {
        cluster: 'eu-1',
        outcome: 'succeeded',
        synced: ['apps/orders-db'],
        restarted: ['Deployment apps/orders', 'Deployment apps/billing'],
        failed: [],
        counts: { synced: 1, restarted: 40, failed: 0, nextPod: 0, notRestarted: 0 },
      },
      ...(failedCluster
        ? [
            {
              cluster: 'us-2',
              outcome: 'failed' as const,
              synced: ['apps/orders-db'],
              restarted: [],
              failed: [`Deployment apps/orders: KubernetesCallError: ${KUBERNETES_BODY}`],
              notRestarted: ['Deployment apps/billing'],
              nextPod: ['StatefulSet apps/cache: OnDelete'],
              gone: ['ExternalSecret/apps/old-db: deleted since the plan'],
            },
          ]
        : []),
    ],
  };
}

describe('planNotification', () => {
  it.each([
    ['SUCCEEDED', 'succeeded', 'succeeded', undefined, 'Propagation succeeded', 'good'],
    ['FAILED', 'failed', 'failed', undefined, 'Propagation failed', 'attention'],
    ['FAILED', 'succeeded', 'failed', 'succeeded', 'Propagated, then a later step failed', 'warning'],
    ['TIMED_OUT', 'in-progress', 'failed', 'in-progress', 'Propagation timed out', 'attention'],
    ['ABORTED', 'in-progress', 'failed', 'in-progress', 'Propagation aborted', 'attention'],
  ] as const)(
    'an execution %s with a %s record is announced as %s',
    (status, stored, outcome, recorded, headline, tone) => {
      const plan = planNotification(
        ended(status, status === 'SUCCEEDED' ? undefined : 'PropagationFailed'),
        SECRET,
        record(stored, stored === 'failed'),
      );
      if (!('notify' in plan)) throw new Error('expected a notification');
      expect(plan.notify).toMatchObject({ outcome, executionStatus: status, secretName: SECRET, moveSeq: 2 });
      expect(plan.notify.recorded).toBe(recorded);
      expect(summarize(plan.notify)).toMatchObject({ title: `${headline}: ${SECRET}`, tone });
    },
  );

  it('skips a succeeded execution that holds no record (a duplicate that claimed nothing)', () => {
    expect(planNotification(ended('SUCCEEDED'), SECRET, undefined)).toEqual({
      skip: expect.stringContaining('claimed nothing'),
    });
  });

  it('announces a failure before the claim (no record) with the input and the error name', () => {
    const plan = planNotification(ended('FAILED', 'PropagationFailed'), SECRET, undefined);
    if (!('notify' in plan)) throw new Error('expected a notification');
    expect(plan.notify).toEqual({
      outcome: 'failed',
      executionStatus: 'FAILED',
      secretName: SECRET,
      versionId: VERSION,
      executionName: EXECUTION,
      durationMs: 9_000,
      clusters: [],
      errorName: 'PropagationFailed',
    });
  });

  it('counts every list from the record (counts when present, else the list lengths)', () => {
    const plan = planNotification(ended('FAILED', 'PropagationFailed'), SECRET, record('failed', true));
    if (!('notify' in plan)) throw new Error('expected a notification');
    expect(plan.notify.clusters).toEqual([
      {
        cluster: 'eu-1',
        outcome: 'succeeded',
        synced: 1,
        restarted: 40,
        failed: 0,
        nextPod: 0,
        notRestarted: 0,
        gone: 0,
      },
      {
        cluster: 'us-2',
        outcome: 'failed',
        synced: 1,
        restarted: 0,
        failed: 1,
        nextPod: 1,
        notRestarted: 1,
        gone: 1,
      },
    ]);
  });
});

describe('recordOfExecution', () => {
  it('finds the propagation this execution holds, not another execution’s or version’s', () => {
    const mine = record('failed');
    const entries = [
      { kind: 'propagation' as const, ...mine, executionId: 'other-execution' },
      { kind: 'propagation' as const, ...mine, versionId: PREVIOUS },
      { kind: 'propagation' as const, ...mine },
    ];
    expect(recordOfExecution(entries, EXECUTION, VERSION)).toBe(entries[2]);
    expect(recordOfExecution(entries.slice(0, 2), EXECUTION, VERSION)).toBeUndefined();
  });
});

describe('the Slack and Teams messages', () => {
  const failure = planNotification(ended('FAILED', 'PropagationFailed'), SECRET, record('failed', true));
  if (!('notify' in failure)) throw new Error('expected a notification');
  const summary = summarize(failure.notify);

  it('Slack: a fallback text and Block Kit blocks within Slack’s limits', () => {
    const message = slackMessage(summary);
    expect(message.text).toBe(`:x: Propagation failed: ${SECRET}`);
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    const fields = (message.blocks[1] as { fields: { text: string }[] }).fields;
    expect(fields.length).toBeLessThanOrEqual(10);
    // Names in code spans, so `_` in a name is not italics.
    expect(fields[0]?.text).toBe(`*Secret*\n\`${SECRET}\``);
    expect(JSON.stringify(message.blocks[2])).toContain(
      'us-2: failed, 1 synced, 0 restarted, 1 failed, 1 on next pod, 1 not restarted, 1 deleted while it ran',
    );
  });

  it('Teams: a message with one Adaptive Card (title, facts, cluster lines)', () => {
    const message = teamsMessage(summary);
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    const card = message.attachments[0]?.content as {
      type: string;
      version: string;
      body: { type: string; text?: string; color?: string; facts?: { title: string; value: string }[] }[];
    };
    expect(message.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(card.body[0]).toMatchObject({
      type: 'TextBlock',
      text: `Propagation failed: ${SECRET}`,
      color: 'Attention',
    });
    expect(card.body[1]?.facts).toEqual(
      expect.arrayContaining([
        { title: 'Secret', value: SECRET },
        { title: 'Version', value: `${VERSION} (move 2)` },
        { title: 'Previous version', value: PREVIOUS },
        { title: 'Trigger', value: 'scheduled by scheduler' },
        { title: 'Duration', value: '2 min 5 s' },
        {
          title: 'Workloads',
          value: '40 restarted, 2 ExternalSecrets synced, 1 failed; 1 of 2 cluster(s) succeeded',
        },
        { title: 'Error', value: 'PropagationFailed' },
        { title: 'Execution', value: EXECUTION },
      ]),
    );
  });

  it.each([
    ['Slack', () => slackMessage(summary)],
    ['Teams', () => teamsMessage(summary)],
  ])(
    '%s carries names, versions and counts only: no error text, reason, value or workload list',
    (_format, build) => {
      const text = JSON.stringify(build());
      expect(text).not.toContain(SECRET_VALUE);
      expect(text).not.toContain('admission webhook');
      expect(text).not.toContain('KubernetesCallError');
      expect(text).not.toContain('Deployment apps/');
      expect(text).not.toContain('operator wrote');
    },
  );

  it('names at most 20 clusters and counts the rest', () => {
    const many = {
      ...failure.notify,
      clusters: Array.from({ length: 25 }, (_, i) => ({ ...failure.notify.clusters[0], cluster: `c${i}` })),
    } as typeof failure.notify;
    const lines = summarize(many).clusterLines;
    expect(lines).toHaveLength(MAX_CLUSTER_LINES + 1);
    expect(lines.at(-1)).toBe('… and 5 more cluster(s)');
  });

  it('escapes Slack’s control characters', () => {
    const message = slackMessage({ ...summary, title: 'a <b> & c' });
    expect(message.text).toBe(':x: a &lt;b&gt; &amp; c');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [42_400, '42 s'],
    [185_000, '3 min 5 s'],
    [7_440_000, '2 h 4 min'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
