import { describe, expect, it } from 'vitest';
import { WebhookRouteInvalidError } from '../../shared/errors';
import {
  NAMESPACE_ROUTE_PROBLEM,
  NOTIFY_ANNOTATION,
  namespaceRoutes,
} from '../../shared/notifications/namespace-routes';
import {
  loadNotifyConfig,
  NOTIFY_DEFAULTS,
  notifyEnvironment,
} from '../../shared/notifications/notify-config';
import {
  MAX_NAMESPACE_ROUTES,
  parseWebhookTarget,
  planRoute,
  planRoutes,
} from '../../shared/notifications/routing';

const CONFIG = { prefix: 'ops/rotator-notifications/', defaultRoute: 'default' };
const DEFAULT_ROUTE = 'ops/rotator-notifications/default';
const HOOK = 'https://hooks.slack.com/services/T000/B000/route-token-0123456789';

describe('planRoute', () => {
  it.each([
    [
      'an owner tag',
      { 'rotator:owner': 'payments' },
      ['ops/rotator-notifications/payments', DEFAULT_ROUTE],
      'payments',
    ],
    [
      'an owner tag with blanks around it',
      { 'rotator:owner': ' payments ' },
      ['ops/rotator-notifications/payments', DEFAULT_ROUTE],
      'payments',
    ],
    ['no owner tag', { other: 'x' }, [DEFAULT_ROUTE], undefined],
    ['an empty owner tag', { 'rotator:owner': '' }, [DEFAULT_ROUTE], undefined],
    ['the default route as owner', { 'rotator:owner': 'default' }, [DEFAULT_ROUTE], 'default'],
  ])('%s: tries %j', (_case, tags, candidates, owner) => {
    const plan = planRoute(tags, CONFIG);
    expect(plan.candidates).toEqual(candidates);
    expect(plan.owner).toBe(owner);
    expect(plan.ownerProblem).toBeUndefined();
  });

  it.each([['team/../other'], ['a/b'], ['x'.repeat(129)], ['two words']])(
    'ignores an owner tag %j that is not one segment, with a problem that does not quote it',
    (owner) => {
      const plan = planRoute({ 'rotator:owner': owner }, CONFIG);
      expect(plan.candidates).toEqual([DEFAULT_ROUTE]);
      expect(plan.ownerProblem).toMatch(/rotator:owner must be/);
      expect(plan.ownerProblem).not.toContain(owner);
    },
  );
});

describe('namespaceRoutes', () => {
  const ns = (value?: string): Record<string, string> =>
    value === undefined ? {} : { [NOTIFY_ANNOTATION]: value, other: 'x' };

  it('collects the distinct routes of annotated Namespaces, sorted, and ignores the rest', () => {
    const result = namespaceRoutes(
      new Map([
        ['payments', ns('payments-oncall')],
        ['search', ns(' search ')],
        ['search-canary', ns('search')],
        ['plain', ns()],
        ['empty', ns('  ')],
        ['deleted', undefined],
      ]),
    );
    expect(result).toEqual({ routes: ['payments-oncall', 'search'], malformed: [] });
  });

  it.each([['team/../other'], ['a/b'], ['x'.repeat(129)], ['two words']])(
    'ignores a malformed annotation %j, naming the Namespace, never the value',
    (value) => {
      const result = namespaceRoutes(
        new Map([
          ['team-b', ns(value)],
          ['team-a', ns('ok')],
        ]),
      );
      expect(result).toEqual({ routes: ['ok'], malformed: ['team-b'] });
      expect(NAMESPACE_ROUTE_PROBLEM).not.toContain(value);
    },
  );
});

describe('planRoutes', () => {
  const route = (name: string) => `ops/rotator-notifications/${name}`;

  it.each([
    ['owner and namespaces', { 'rotator:owner': 'payments' }, ['search', 'ledger'], ['search', 'ledger']],
    ['a namespace naming the owner', { 'rotator:owner': 'payments' }, ['payments', 'search'], ['search']],
    ['duplicates', {}, ['search', 'search', 'ledger'], ['search', 'ledger']],
    [
      'a namespace naming the default, with an owner',
      { 'rotator:owner': 'payments' },
      ['default'],
      ['default'],
    ],
    ['a namespace naming the default, without an owner', {}, ['default'], ['default']],
    ['malformed names from the record', {}, ['../x', 'a/b', ''], []],
  ])('%s', (_case, tags, fromNamespaces, also) => {
    const plan = planRoutes(tags, fromNamespaces, CONFIG);
    expect(plan.candidates).toEqual(planRoute(tags, CONFIG).candidates);
    expect(plan.also).toEqual(also.map(route));
    expect(plan.dropped).toBe(0);
  });

  it(`keeps at most ${MAX_NAMESPACE_ROUTES} namespace routes and counts the rest`, () => {
    const many = Array.from({ length: MAX_NAMESPACE_ROUTES + 3 }, (_, i) => `team-${i}`);
    const plan = planRoutes({}, many, CONFIG);
    expect(plan.also).toHaveLength(MAX_NAMESPACE_ROUTES);
    expect(plan.dropped).toBe(3);
  });
});

describe('parseWebhookTarget', () => {
  it.each([
    ['slack', HOOK],
    [
      'teams',
      'https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=xyz',
    ],
    ['slack', 'http://127.0.0.1:8080/hook/local'],
    ['teams', 'http://localhost:9/hook'],
  ] as const)('reads a %s route at %s', (format, url) => {
    const target = parseWebhookTarget(DEFAULT_ROUTE, JSON.stringify({ url, format }));
    expect(target).toEqual({ routeSecretName: DEFAULT_ROUTE, url: new URL(url), format });
  });

  it.each([
    ['not JSON', HOOK, /the value is not JSON/],
    ['no format', JSON.stringify({ url: HOOK }), /format:/],
    ['an unknown format', JSON.stringify({ url: HOOK, format: 'discord' }), /format:/],
    ['no url', JSON.stringify({ format: 'slack' }), /url:/],
    [
      'a url that is not one',
      JSON.stringify({ url: 'hooks.slack.com/route-token-0123456789', format: 'slack' }),
      /url: is not a URL/,
    ],
    [
      'plain http to another host',
      JSON.stringify({ url: HOOK.replace('https', 'http'), format: 'slack' }),
      /must be https/,
    ],
    [
      'user info',
      JSON.stringify({ url: 'https://user:route-token-0123456789@example.com/x', format: 'teams' }),
      /user name or password/,
    ],
  ])('refuses %s, naming the route and never the value', (_case, value, problem) => {
    const error = captureError(() => parseWebhookTarget(DEFAULT_ROUTE, value));
    expect(error).toBeInstanceOf(WebhookRouteInvalidError);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(DEFAULT_ROUTE);
    expect(error.message).not.toContain('route-token-0123456789');
    expect(error.cause).toBeUndefined();
  });
});

describe('notifyEnvironment', () => {
  it('writes what loadNotifyConfig reads back, every default written out', () => {
    const config = {
      managedPrefixes: ['prod/a/', 'prod/b/'],
      ledgerTableName: 'ledger',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation',
      notificationsPrefix: 'ops/rotator-notifications/',
    };
    const env = notifyEnvironment(config);
    expect(env.ROTATOR_WEBHOOK_ATTEMPTS).toBe(String(NOTIFY_DEFAULTS.webhookAttempts));
    expect(loadNotifyConfig(env)).toEqual({
      ...config,
      defaultRoute: 'default',
      webhookTimeoutMs: 5000,
      webhookAttempts: 3,
    });
  });

  it('fails fast on a default route that is not one segment', () => {
    const env = notifyEnvironment({
      managedPrefixes: ['prod/a/'],
      ledgerTableName: 'ledger',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:p',
      notificationsPrefix: 'ops/n/',
    });
    expect(() => loadNotifyConfig({ ...env, ROTATOR_NOTIFICATIONS_DEFAULT_ROUTE: 'a/b' })).toThrow(
      /ROTATOR_NOTIFICATIONS_DEFAULT_ROUTE/,
    );
  });
});

function captureError(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
