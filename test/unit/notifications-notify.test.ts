import { describe, expect, it, vi } from 'vitest';
import {
  InvalidEventError,
  SecretNotManagedError,
  WebhookDeliveryError,
  WebhookRouteInvalidError,
} from '../../shared/errors';
import type { LedgerEntry } from '../../shared/ledger/ledger-port';
import { type NotifyDeps, notifyPropagation } from '../../shared/notifications/notify-propagation';

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
  const deliver = vi.fn(async () => ({ status: 200, attempts: 1 }));
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
      sent: { route: 'ops/notify/payments', format: 'teams', outcome: 'failed', attempts: 1 },
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

    expect(result).toMatchObject({ sent: { route: 'ops/notify/default', format: 'slack' } });
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
});
