import { describe, expect, it, vi } from 'vitest';
import {
  InvalidEventError,
  NotificationRoutesFailedError,
  SecretNotManagedError,
  WebhookDeliveryError,
  WebhookRouteInvalidError,
} from '../../shared/errors';
import type { LedgerEntry } from '../../shared/ledger/ledger-port';
import { type NotifyDeps, notifyPropagation } from '../../shared/notifications/notify-propagation';
import type { WebhookTarget } from '../../shared/notifications/routing';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation';
const SECRET = 'prod/app-team/db';
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET}-AbCdEf`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const ROUTES = 'ops/notify/';
const URL_TEXT = 'https://hooks.example.com/services/route-token-0123456789';

function event(status = 'FAILED', secretId = ARN) {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: `${STATE_MACHINE}:exec-1`,
      stateMachineArn: STATE_MACHINE,
      name: 'exec-1',
      status,
      input: JSON.stringify({ secretId, versionId: VERSION }),
      error: status === 'FAILED' ? 'PropagationFailed' : null,
    },
  };
}

const RECORD: LedgerEntry = {
  kind: 'propagation',
  secretName: SECRET,
  secretArn: ARN,
  versionId: VERSION,
  moveSeq: 1,
  trigger: 'event',
  actor: 'eventbridge',
  executionId: 'exec-1',
  startedAt: '2026-11-30T12:00:00.000Z',
  status: 'failed',
};

/** Fakes for every port; `routes` maps route secret names to their values. */
function deps(
  tags: Record<string, string>,
  routes: Record<string, string>,
  history: LedgerEntry[] = [RECORD],
) {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  const metrics = { addMetric: vi.fn(), addDimension: vi.fn() };
  const deliver = vi.fn(async (_target: WebhookTarget, _message: unknown, _options: unknown) => ({
    status: 200,
    attempts: 1,
  }));
  const findSecretString = vi.fn(async (name: string) => routes[name]);
  const describeSecret = vi.fn(async () => ({
    arn: ARN,
    name: SECRET,
    rotationEnabled: true,
    versionIdsToStages: {},
    tags,
  }));
  const all = {
    config: {
      managedPrefixes: ['prod/app-team/'],
      stateMachineArn: STATE_MACHINE,
      notificationsPrefix: ROUTES,
      defaultRoute: 'default',
      webhookTimeoutMs: 5000,
      webhookAttempts: 3,
    },
    secrets: { describeSecret, findSecretString },
    ledger: { history: vi.fn(async () => history) },
    deliver,
    logger,
    metrics,
  } satisfies NotifyDeps;
  return all;
}

const route = (format: string) => JSON.stringify({ url: URL_TEXT, format });
const metricNames = (d: ReturnType<typeof deps>) => d.metrics.addMetric.mock.calls.map(([name]) => name);

describe('notifyPropagation', () => {
  it('sends to the owner’s route in its format, after looking up nothing else', async () => {
    const d = deps(
      { 'rotator:owner': 'payments' },
      { 'ops/notify/payments': route('teams'), 'ops/notify/default': route('slack') },
    );

    const result = await notifyPropagation(event(), d);

    expect(result).toEqual({
      sent: [{ route: 'ops/notify/payments', format: 'teams', outcome: 'failed', attempts: 1 }],
    });
    expect(d.secrets.findSecretString.mock.calls.map(([name]) => name)).toEqual(['ops/notify/payments']);
    expect(d.deliver).toHaveBeenCalledWith(
      expect.objectContaining({ routeSecretName: 'ops/notify/payments', format: 'teams' }),
      expect.objectContaining({ type: 'message' }),
      expect.objectContaining({ timeoutMs: 5000, attempts: 3 }),
    );
    expect(metricNames(d)).toEqual(['NotificationsSent']);
  });

  it('falls back to the default route when the owner has none', async () => {
    const d = deps({ 'rotator:owner': 'ghost' }, { 'ops/notify/default': route('slack') });

    const result = await notifyPropagation(event(), d);

    expect(result).toMatchObject({ sent: [{ route: 'ops/notify/default', format: 'slack' }] });
    expect(d.logger.info).toHaveBeenCalledWith('owner has no route; default route used', {
      route: 'ops/notify/ghost',
    });
  });

  it('warns about a malformed owner tag, without quoting it, and uses the default route', async () => {
    const d = deps({ 'rotator:owner': '../secret-owner' }, { 'ops/notify/default': route('slack') });

    await notifyPropagation(event(), d);

    expect(d.secrets.findSecretString.mock.calls.map(([name]) => name)).toEqual(['ops/notify/default']);
    expect(JSON.stringify(d.logger.warn.mock.calls)).not.toContain('secret-owner');
  });

  it('sends nothing, without failing, when no route exists', async () => {
    const d = deps({}, {});

    expect(await notifyPropagation(event(), d)).toEqual({ skipped: 'no route' });
    expect(d.deliver).not.toHaveBeenCalled();
    expect(metricNames(d)).toEqual(['NotificationsUnrouted']);
  });

  it('fails on a malformed route, naming the route and never its value', async () => {
    const d = deps({}, { 'ops/notify/default': JSON.stringify({ url: URL_TEXT, format: 'email' }) });

    const error = await notifyPropagation(event(), d).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );

    expect(error).toBeInstanceOf(WebhookRouteInvalidError);
    expect(error.message).toContain('ops/notify/default');
    expect(error.message).not.toContain('route-token');
    expect(d.deliver).not.toHaveBeenCalled();
  });

  it('counts a refused delivery and lets the error go on to the handler’s logFailureOnce', async () => {
    const d = deps({}, { 'ops/notify/default': route('slack') });
    d.deliver.mockRejectedValueOnce(new WebhookDeliveryError('ops/notify/default', 400, 1));

    await expect(notifyPropagation(event(), d)).rejects.toBeInstanceOf(WebhookDeliveryError);
    expect(metricNames(d)).toEqual(['NotificationsFailed']);
    expect(d.logger.error).not.toHaveBeenCalled();
  });

  it('skips a succeeded execution without a record of its own, before reading any route', async () => {
    const d = deps({}, { 'ops/notify/default': route('slack') }, [{ ...RECORD, executionId: 'exec-0' }]);

    expect(await notifyPropagation(event('SUCCEEDED'), d)).toEqual({
      skipped: expect.stringContaining('claimed nothing'),
    });
    expect(d.secrets.findSecretString).not.toHaveBeenCalled();
    expect(metricNames(d)).toEqual(['NotificationsSkipped']);
  });

  it('ignores a running execution before any AWS call', async () => {
    const d = deps({}, {});

    expect(await notifyPropagation(event('RUNNING'), d)).toEqual({
      skipped: expect.stringContaining('not final'),
    });
    expect(d.secrets.describeSecret).not.toHaveBeenCalled();
  });

  it('refuses a secret outside the managed prefixes before any AWS call', async () => {
    const d = deps({}, {});
    const outside = ARN.replace('prod/app-team/', 'prod/other-team/');

    await expect(notifyPropagation(event('FAILED', outside), d)).rejects.toBeInstanceOf(
      SecretNotManagedError,
    );
    expect(d.secrets.describeSecret).not.toHaveBeenCalled();
  });

  it('refuses an event that is not a status change', async () => {
    await expect(notifyPropagation({ detail: {} }, deps({}, {}))).rejects.toBeInstanceOf(InvalidEventError);
  });

  describe('namespace routes (from the ledger record’s cluster outcomes)', () => {
    const withRoutes = (...perCluster: string[][]): LedgerEntry[] => [
      {
        ...RECORD,
        clusters: perCluster.map((notifyRoutes, i) => ({
          cluster: `c${i}`,
          outcome: 'failed' as const,
          synced: [],
          restarted: [],
          failed: [],
          notifyRoutes,
        })),
      },
    ];
    const sentTo = (d: ReturnType<typeof deps>) =>
      d.deliver.mock.calls.map(([target]) => target.routeSecretName).sort();

    it('sends one message to the owner’s route and to each distinct namespace route', async () => {
      const d = deps(
        { 'rotator:owner': 'payments' },
        {
          'ops/notify/payments': route('teams'),
          'ops/notify/search': route('slack'),
          'ops/notify/ledger': route('teams'),
          'ops/notify/default': route('slack'),
        },
        withRoutes(['search', 'payments'], ['ledger', 'search']),
      );

      const result = await notifyPropagation(event(), d);

      expect(sentTo(d)).toEqual(['ops/notify/ledger', 'ops/notify/payments', 'ops/notify/search']);
      // The owner's route first, then the namespace routes in the record's order.
      expect('sent' in result && result.sent.map((r) => [r.route, r.format])).toEqual([
        ['ops/notify/payments', 'teams'],
        ['ops/notify/search', 'slack'],
        ['ops/notify/ledger', 'teams'],
      ]);
      expect(result).not.toHaveProperty('missing');
      expect(metricNames(d)).toEqual(['NotificationsSent', 'NotificationsSent', 'NotificationsSent']);
    });

    it('sends once to the default route when a namespace asks for it and the secret has no owner', async () => {
      const d = deps({}, { 'ops/notify/default': route('slack') }, withRoutes(['default']));

      await notifyPropagation(event(), d);

      expect(sentTo(d)).toEqual(['ops/notify/default']);
    });

    it('skips a namespace route that does not exist, with a metric and without failing', async () => {
      const d = deps(
        {},
        { 'ops/notify/default': route('slack'), 'ops/notify/search': route('teams') },
        withRoutes(['search', 'nobody']),
      );

      const result = await notifyPropagation(event(), d);

      expect(sentTo(d)).toEqual(['ops/notify/default', 'ops/notify/search']);
      expect(result).toMatchObject({ missing: ['ops/notify/nobody'] });
      expect(metricNames(d)).toContain('NotificationsRouteMissing');
      expect(d.logger.error).not.toHaveBeenCalled();
    });

    it('sends to the namespace routes when neither the owner nor the default route exists', async () => {
      const d = deps(
        { 'rotator:owner': 'ghost' },
        { 'ops/notify/search': route('teams') },
        withRoutes(['search']),
      );

      const result = await notifyPropagation(event(), d);

      expect(result).toMatchObject({ sent: [{ route: 'ops/notify/search' }] });
      expect(metricNames(d)).not.toContain('NotificationsUnrouted');
    });

    it('ignores a route name in the record that is not one segment, reading no secret for it', async () => {
      const d = deps({}, { 'ops/notify/default': route('slack') }, withRoutes(['../default', 'a/b']));

      await notifyPropagation(event(), d);

      expect(d.secrets.findSecretString.mock.calls.map(([name]) => name)).toEqual(['ops/notify/default']);
    });

    it('still sends to the other routes when one refuses, then fails with that route’s error', async () => {
      const d = deps(
        {},
        { 'ops/notify/default': route('slack'), 'ops/notify/search': route('teams') },
        withRoutes(['search']),
      );
      d.deliver.mockImplementation(async (target) => {
        if (target.routeSecretName === 'ops/notify/default')
          throw new WebhookDeliveryError('ops/notify/default', 400, 1);
        return { status: 200, attempts: 1 };
      });

      const error = await notifyPropagation(event(), d).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(WebhookDeliveryError);
      expect(sentTo(d)).toEqual(['ops/notify/default', 'ops/notify/search']);
      expect(metricNames(d).sort()).toEqual(['NotificationsFailed', 'NotificationsSent']);
    });

    it('fails with every failing route named, never a URL, after sending to the rest', async () => {
      const d = deps(
        {},
        {
          'ops/notify/default': route('slack'),
          'ops/notify/search': JSON.stringify({ url: URL_TEXT, format: 'email' }),
          'ops/notify/ledger': route('teams'),
          'ops/notify/ok': route('teams'),
        },
        withRoutes(['search', 'ledger', 'ok']),
      );
      d.deliver.mockImplementation(async (target) => {
        if (target.routeSecretName === 'ops/notify/ledger')
          throw new WebhookDeliveryError('ops/notify/ledger', 'ECONNREFUSED', 3);
        return { status: 200, attempts: 1 };
      });

      const error = (await notifyPropagation(event(), d).catch((e: unknown) => e)) as Error;

      expect(error).toBeInstanceOf(NotificationRoutesFailedError);
      expect((error as NotificationRoutesFailedError).sent).toBe(2);
      expect(error.message).toContain('ops/notify/search');
      expect(error.message).toContain('ops/notify/ledger');
      expect(error.message).not.toContain('route-token');
      expect(sentTo(d)).toEqual(['ops/notify/default', 'ops/notify/ledger', 'ops/notify/ok']);
    });
  });
});
