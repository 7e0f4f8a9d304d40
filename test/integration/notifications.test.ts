/**
 * The notify function through its real middy + Powertools stack, against moto (DescribeSecret, the
 * route secrets, the ledger's history index) and local HTTP receivers standing in for Slack and
 * Teams: a success and a failure in each format, routing by the owner tag and the default route, a
 * receiver that answers 500 then 200 (retried) and one that answers 400 (not retried, logged
 * without the URL). Every byte written to stdout/stderr is captured and scanned for the managed
 * secret's value, the webhook URLs and the Kubernetes error body.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { createSecret } from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { PropagationRecord } from '../../shared/ledger/ledger-port';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

const RUN = randomUUID().slice(0, 8);
const MANAGED = `notify-${RUN}/app-team/`;
const ROUTES = `notify-${RUN}/rotator-notifications/`;
const TABLE = `ledger-notify-${RUN}`;
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation';
const SECRET_VALUE = `managed-value-${randomBytes(12).toString('hex')}`;
const KUBERNETES_BODY = `{"kind":"Status","message":"denied: env PASSWORD=${SECRET_VALUE} k8s-body-${RUN}"}`;
/** Each receiver path holds a token, as a real webhook URL does: it must never be printed. */
const token = () => randomBytes(16).toString('hex');
const PATHS = {
  slack: `/slack/${token()}`,
  teams: `/teams/${token()}`,
  flaky: `/flaky/${token()}`,
  bad: `/bad/${token()}`,
  search: `/search/${token()}`,
};

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}
const received: Received[] = [];
let flakyCalls = 0;
let server: Server;
let baseUrl: string;
let output: OutputCapture;
let ledger: DynamoDbLedger;
let handler: (event: unknown, context: unknown) => Promise<unknown>;
const arns: Record<string, string> = {};

/** Slack and Teams receivers answer 200; flaky answers 500 once, then 200; bad answers 400. */
function answer(path: string): number {
  if (path === PATHS.flaky) return ++flakyCalls === 1 ? 500 : 200;
  if (path === PATHS.bad) return 400;
  return [PATHS.slack, PATHS.teams, PATHS.search].includes(path) ? 200 : 404;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const status = answer(request.url ?? '');
      received.push({ path: request.url ?? '', body: JSON.parse(text), status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const endpoint = inject('motoEndpoint');
  const clients = localClients(endpoint);
  await createLedgerTable(clients.dynamodb, TABLE);
  ledger = new DynamoDbLedger(clients.dynamodb, TABLE);
  const route = (path: string, format: string) => JSON.stringify({ url: `${baseUrl}${path}`, format });
  await createSecret(clients, `${ROUTES}payments`, route(PATHS.slack, 'slack'));
  await createSecret(clients, `${ROUTES}default`, route(PATHS.teams, 'teams'));
  await createSecret(clients, `${ROUTES}flaky`, route(PATHS.flaky, 'slack'));
  await createSecret(clients, `${ROUTES}broken`, route(PATHS.bad, 'teams'));
  await createSecret(clients, `${ROUTES}search`, route(PATHS.search, 'teams'));
  const owners: Record<string, string | undefined> = {
    payments: 'payments',
    orphan: undefined,
    ghost: 'ghost',
    flaky: 'flaky',
    broken: 'broken',
  };
  for (const [name, owner] of Object.entries(owners)) {
    arns[name] = await createSecret(clients, `${MANAGED}${name}-db`, SECRET_VALUE, {
      ...(owner ? { 'rotator:owner': owner } : {}),
      team: 'x',
    });
  }

  output = captureOutput();
  vi.resetModules();
  const env = {
    ...localAwsEnvironment(endpoint),
    ROTATOR_MANAGED_PREFIXES: MANAGED,
    ROTATOR_LEDGER_TABLE: TABLE,
    ROTATOR_STATE_MACHINE_ARN: STATE_MACHINE,
    ROTATOR_NOTIFICATIONS_PREFIX: ROUTES,
  };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  ({ handler } = (await import('../../functions/notify/handler')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  output?.stop();
  vi.unstubAllEnvs();
  await new Promise((resolve) => server?.close(resolve));
});

/** A propagation of `secret` recorded by the execution `name`, as Claim and Record/RecordFailure write it. */
async function recordPropagation(
  secret: string,
  name: string,
  versionId: string,
  status: 'succeeded' | 'failed',
  notifyRoutes?: string[],
) {
  const secretName = `${MANAGED}${secret}-db`;
  const startedAt = new Date(Date.now() - 90_000).toISOString();
  const claim = {
    secretName,
    secretArn: arns[secret] as string,
    versionId,
    moveSeq: 1,
    trigger: 'event' as const,
  };
  await ledger.claimPropagation(
    { ...claim, actor: 'eventbridge', executionId: name, startedAt },
    { leaseMs: 3_600_000, now: new Date() },
  );
  const clusters: PropagationRecord['clusters'] = [
    {
      cluster: 'eu-1',
      outcome: status,
      synced: [`apps/${secret}`],
      restarted: ['Deployment apps/api'],
      failed: status === 'failed' ? [`Deployment apps/worker: KubernetesCallError ${KUBERNETES_BODY}`] : [],
      counts: { synced: 1, restarted: 1, failed: status === 'failed' ? 1 : 0, nextPod: 0, notRestarted: 0 },
      ...(notifyRoutes && { notifyRoutes }),
    },
  ];
  await ledger.finishPropagation(secretName, { versionId, moveSeq: 1 }, name, {
    status,
    finishedAt: new Date().toISOString(),
    durationMs: 90_000,
    clusters,
    ...(status === 'failed' ? { error: `PropagationFailed: ${KUBERNETES_BODY}` } : {}),
  });
}

function ended(secret: string, name: string, versionId: string, status: string) {
  return {
    version: '0',
    id: randomUUID(),
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    account: '123456789012',
    region: 'us-east-1',
    time: new Date().toISOString(),
    resources: [`${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`],
    detail: {
      executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn: STATE_MACHINE,
      name,
      status,
      startDate: Date.now() - 95_000,
      stopDate: Date.now(),
      input: JSON.stringify({ secretId: arns[secret], versionId, trigger: 'event', actor: 'eventbridge' }),
      inputDetails: { included: true },
      output: null,
      error: status === 'FAILED' ? 'PropagationFailed' : null,
      cause: status === 'FAILED' ? `See the ledger ${KUBERNETES_BODY}` : null,
    },
  };
}

/** Records a propagation of `secret`, then delivers its ended execution to the handler. */
async function propagate(secret: string, outcome: 'succeeded' | 'failed', notifyRoutes?: string[]) {
  const versionId = randomUUID();
  const name = `${secret}-${RUN}-${versionId.slice(0, 8)}`;
  await recordPropagation(secret, name, versionId, outcome, notifyRoutes);
  const from = received.length;
  const result = await handler(
    ended(secret, name, versionId, outcome === 'succeeded' ? 'SUCCEEDED' : 'FAILED'),
    localLambdaContext('notify', 60_000),
  ).catch((error: unknown) => error);
  return { result, requests: received.slice(from), versionId };
}

const textOf = (r: Received | undefined) => JSON.stringify(r?.body ?? {});

describe('webhook notifications of ended propagations (moto + local receivers)', () => {
  it('posts a Slack message to the owner’s route on success', async () => {
    const { result, requests, versionId } = await propagate('payments', 'succeeded');

    expect(result).toEqual({
      sent: [{ route: `${ROUTES}payments`, format: 'slack', outcome: 'succeeded', attempts: 1 }],
    });
    expect(requests.map((r) => r.path)).toEqual([PATHS.slack]);
    expect(requests[0]?.body).toMatchObject({
      text: `:white_check_mark: Propagation succeeded: ${MANAGED}payments-db`,
    });
    expect(textOf(requests[0])).toContain(versionId);
    expect(textOf(requests[0])).toContain('eu-1: succeeded, 1 synced, 1 restarted');
  });

  it('posts a Slack message to the owner’s route on failure, with counts and the error name only', async () => {
    const { requests } = await propagate('payments', 'failed');

    expect(requests.map((r) => r.path)).toEqual([PATHS.slack]);
    expect(requests[0]?.body).toMatchObject({ text: `:x: Propagation failed: ${MANAGED}payments-db` });
    expect(textOf(requests[0])).toContain('PropagationFailed');
    expect(textOf(requests[0])).toContain('eu-1: failed, 1 synced, 1 restarted, 1 failed');
    expect(textOf(requests[0])).not.toContain('KubernetesCallError');
  });

  it.each([
    ['no owner tag', 'orphan'],
    ['an owner without a route', 'ghost'],
  ])(
    'posts a Teams card to the default route for a secret with %s, on success and failure',
    async (_case, secret) => {
      const success = await propagate(secret, 'succeeded');
      const failure = await propagate(secret, 'failed');

      for (const [{ requests, result }, title, color] of [
        [success, 'Propagation succeeded', 'Good'],
        [failure, 'Propagation failed', 'Attention'],
      ] as const) {
        expect(result).toMatchObject({ sent: [{ route: `${ROUTES}default`, format: 'teams' }] });
        expect(requests.map((r) => r.path)).toEqual([PATHS.teams]);
        expect(requests[0]?.body).toMatchObject({
          type: 'message',
          attachments: [
            {
              contentType: 'application/vnd.microsoft.card.adaptive',
              content: {
                type: 'AdaptiveCard',
                body: expect.arrayContaining([
                  expect.objectContaining({ text: `${title}: ${MANAGED}${secret}-db`, color }),
                ]),
              },
            },
          ],
        });
      }
    },
  );

  it('retries a 500 and delivers on the second call', async () => {
    const { result, requests } = await propagate('flaky', 'failed');

    expect(requests.map((r) => [r.path, r.status])).toEqual([
      [PATHS.flaky, 500],
      [PATHS.flaky, 200],
    ]);
    expect(result).toMatchObject({ sent: [{ route: `${ROUTES}flaky`, attempts: 2 }] });
  });

  it('does not retry a 400: one call, the invocation fails, and the log names the route, not the URL', async () => {
    const before = output.text().length;
    const { result, requests } = await propagate('broken', 'succeeded');

    expect(requests.map((r) => [r.path, r.status])).toEqual([[PATHS.bad, 400]]);
    expect(result).toMatchObject({ name: 'WebhookDeliveryError', failure: 400, attempts: 1 });
    const lines = output
      .text()
      .slice(before)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    const failed = lines.find((line) => line.message === 'notification not sent');
    expect(failed).toMatchObject({
      level: 'ERROR',
      secretName: `${MANAGED}broken-db`,
      error: {
        name: 'WebhookDeliveryError',
        code: 'WEBHOOK_DELIVERY_FAILED',
        message: `Webhook of notification route "${ROUTES}broken" refused the notification: HTTP 400 after 1 attempt(s)`,
      },
    });
  });

  it('posts to the owner’s route and each namespace route the record names, skipping one that does not exist', async () => {
    const before = output.text().length;
    const { result, requests, versionId } = await propagate('payments', 'failed', [
      'search',
      'nobody',
      'payments',
    ]);

    expect(requests.map((r) => r.path).sort()).toEqual([PATHS.search, PATHS.slack].sort());
    expect(result).toEqual({
      sent: [
        { route: `${ROUTES}payments`, format: 'slack', outcome: 'failed', attempts: 1 },
        { route: `${ROUTES}search`, format: 'teams', outcome: 'failed', attempts: 1 },
      ],
      missing: [`${ROUTES}nobody`],
    });
    for (const request of requests) {
      expect(textOf(request)).toContain(`${MANAGED}payments-db`);
      expect(textOf(request)).toContain(versionId);
    }
    const lines = output
      .text()
      .slice(before)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.message === 'namespace routes that do not exist skipped')).toMatchObject(
      {
        level: 'INFO',
        routes: [`${ROUTES}nobody`],
      },
    );
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([]);
  });

  it('fails the invocation when a namespace route refuses, after the owner’s route took the message', async () => {
    const { result, requests } = await propagate('payments', 'succeeded', ['broken']);

    expect(requests.map((r) => [r.path, r.status]).sort()).toEqual(
      [
        [PATHS.slack, 200],
        [PATHS.bad, 400],
      ].sort(),
    );
    expect(result).toMatchObject({ name: 'WebhookDeliveryError', routeSecretName: `${ROUTES}broken` });
  });

  it('announces nothing for a succeeded execution that claimed nothing (a duplicate start)', async () => {
    const versionId = randomUUID();
    const from = received.length;
    const result = await handler(
      ended('payments', `duplicate-${RUN}`, versionId, 'SUCCEEDED'),
      localLambdaContext('notify'),
    );

    expect(result).toEqual({ skipped: expect.stringContaining('claimed nothing') });
    expect(received.length).toBe(from);
  });

  it('never printed or sent a secret value, a webhook URL or the Kubernetes error body', () => {
    const secrets = [SECRET_VALUE, KUBERNETES_BODY, `k8s-body-${RUN}`, baseUrl, ...Object.values(PATHS)];
    expect(output.text()).toContain('notification sent');
    expect(findLeakedValues(output.text(), secrets)).toEqual([]);
    expect(received.length).toBeGreaterThanOrEqual(8);
    expect(findLeakedValues(JSON.stringify(received.map((r) => r.body)), secrets)).toEqual([]);
  });
});
