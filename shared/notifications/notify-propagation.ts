/**
 * The notify function's one call: an ended propagation execution becomes one webhook message to
 * the secret owner's route (or the default route), and one to each route that an annotation on a
 * Namespace the propagation touched asked for (recorded in the ledger's cluster outcomes: this
 * function never reads a cluster). Reads the secret's tags (DescribeSecret, never a value), the
 * execution's ledger record, and the route secrets; posts to every route, one failing route not
 * stopping the others; logs route secret names, never a URL.
 */

import { mapWithLimit } from '../concurrency';
import { NotificationRoutesFailedError, WebhookDeliveryError, WebhookRouteInvalidError } from '../errors';
import type { LedgerPort, PropagationRecord } from '../ledger/ledger-port';
import type { RotationLogger, RotationMetrics } from '../observability';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretsPort } from '../secrets/secrets-port';
import { parseExecutionStatusEvent } from './execution-status-event';
import { summarize } from './notification-summary';
import type { NotifyConfig } from './notify-config';
import {
  type PropagationNotification,
  planNotification,
  recordOfExecution,
} from './propagation-notification';
import { MAX_NAMESPACE_ROUTES, parseWebhookTarget, planRoutes, type WebhookTarget } from './routing';
import { slackMessage } from './slack-message';
import { teamsMessage } from './teams-message';
import type { WebhookDeliveryOptions } from './webhook-delivery';

/** Ledger entries read to find the execution's record: it is among a secret's newest. */
const HISTORY_LIMIT = 25;

export interface NotifyDeps {
  readonly config: Pick<
    NotifyConfig,
    | 'managedPrefixes'
    | 'stateMachineArn'
    | 'notificationsPrefix'
    | 'defaultRoute'
    | 'webhookTimeoutMs'
    | 'webhookAttempts'
  >;
  readonly secrets: Pick<SecretsPort, 'describeSecret' | 'findSecretString'>;
  readonly ledger: Pick<LedgerPort, 'history'>;
  readonly deliver: (
    target: WebhookTarget,
    message: unknown,
    options: WebhookDeliveryOptions,
  ) => Promise<{ readonly status: number; readonly attempts: number }>;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
}

/** One route that took the notification. */
export interface SentNotification {
  readonly route: string;
  readonly format: WebhookTarget['format'];
  readonly outcome: PropagationNotification['outcome'];
  readonly attempts: number;
}

export type NotifyResult =
  | { readonly skipped: string }
  | {
      /** The owner's (or default) route first, when it exists, then the namespace routes. */
      readonly sent: readonly SentNotification[];
      /** Namespace routes whose secret does not exist: skipped (`NotificationsRouteMissing`). */
      readonly missing?: readonly string[];
    };

/**
 * @example await notifyPropagation(event, deps, { signal }) // { sent: [{ route: 'ops/notify/payments', format: 'slack', … }] }
 */
export async function notifyPropagation(
  raw: unknown,
  deps: NotifyDeps,
  options: { readonly signal?: AbortSignal } = {},
): Promise<NotifyResult> {
  const ended = parseExecutionStatusEvent(raw, deps.config.stateMachineArn);
  if ('ignored' in ended) return skipped(deps, ended.ignored);
  deps.logger.appendKeys({ executionName: ended.executionName, versionId: ended.versionId });
  const secret = await describeManagedSecret(deps.secrets, ended.secretId, deps.config.managedPrefixes);
  deps.logger.appendKeys({ secretName: secret.name });
  const history = await deps.ledger.history(secret.name, { limit: HISTORY_LIMIT });
  const record = recordOfExecution(history, ended.executionName, ended.versionId);
  const plan = planNotification(ended, secret.name, record);
  if ('skip' in plan) return skipped(deps, plan.skip);

  const routes = await findRoutes(secret.tags, namespaceRoutesOf(record), deps);
  if (routes.targets.length === 0 && routes.failures.length === 0) {
    deps.metrics.addMetric('NotificationsUnrouted', 'Count', 1);
    deps.logger.warn('no notification route: neither the owner, the default nor a namespace route exists');
    return { skipped: 'no route' };
  }
  const summary = summarize(plan.notify);
  const delivered = await Promise.allSettled(
    routes.targets.map((target) => send(target, summary, plan.notify.outcome, deps, options)),
  );
  const sent = delivered.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
  const failures = [
    ...routes.failures,
    ...delivered.flatMap((d) => (d.status === 'rejected' ? [d.reason as unknown] : [])),
  ];
  if (failures.length > 0) throw routeFailure(failures, sent.length, deps);
  return { sent, ...(routes.missing.length > 0 && { missing: routes.missing }) };
}

/** One route: its message in its format, posted with the per-route retry rules. */
async function send(
  target: WebhookTarget,
  summary: ReturnType<typeof summarize>,
  outcome: PropagationNotification['outcome'],
  deps: NotifyDeps,
  options: { readonly signal?: AbortSignal },
): Promise<SentNotification> {
  const message = target.format === 'slack' ? slackMessage(summary) : teamsMessage(summary);
  const delivered = await deps.deliver(target, message, {
    timeoutMs: deps.config.webhookTimeoutMs,
    attempts: deps.config.webhookAttempts,
    signal: options.signal,
  });
  deps.metrics.addMetric('NotificationsSent', 'Count', 1);
  const sent = {
    route: target.routeSecretName,
    format: target.format,
    outcome,
    attempts: delivered.attempts,
  };
  deps.logger.info('notification sent', sent);
  return sent;
}

/**
 * The error the invocation ends with once every route was tried: a route's own error when one
 * failed, all of them when several did. Logged once by the handler's logFailureOnce; each names
 * its route, never its URL. An error of another kind (a bug) goes on unchanged.
 */
function routeFailure(failures: readonly unknown[], sent: number, deps: NotifyDeps): Error {
  const known = failures.filter(
    (f): f is WebhookDeliveryError | WebhookRouteInvalidError =>
      f instanceof WebhookDeliveryError || f instanceof WebhookRouteInvalidError,
  );
  const delivery = known.filter((f) => f instanceof WebhookDeliveryError).length;
  if (delivery > 0) deps.metrics.addMetric('NotificationsFailed', 'Count', delivery);
  const other = failures.find((f) => !known.includes(f as never));
  if (other !== undefined) return other instanceof Error ? other : new Error('notification failed');
  return known.length === 1 ? (known[0] as Error) : new NotificationRoutesFailedError(known, sent);
}

/** The namespace routes every cluster of the execution's record asked for, distinct. */
function namespaceRoutesOf(record: PropagationRecord | undefined): string[] {
  return [...new Set((record?.clusters ?? []).flatMap((c) => c.notifyRoutes ?? []))];
}

interface FoundRoutes {
  /** The first of the owner's and the default route that exists, then each namespace route that exists. */
  readonly targets: readonly WebhookTarget[];
  /** Namespace routes that do not exist. */
  readonly missing: readonly string[];
  /** Routes that exist but are malformed: each fails, the others are still sent. */
  readonly failures: readonly WebhookRouteInvalidError[];
}

/**
 * Reads the route secrets: the owner's, then the default (the first that exists), and every
 * namespace route, all before anything is sent (a Secrets Manager error then sends nothing).
 */
async function findRoutes(
  tags: Readonly<Record<string, string>>,
  fromNamespaces: readonly string[],
  deps: NotifyDeps,
): Promise<FoundRoutes> {
  const plan = planRoutes(tags, fromNamespaces, {
    prefix: deps.config.notificationsPrefix,
    defaultRoute: deps.config.defaultRoute,
  });
  if (plan.ownerProblem)
    deps.logger.warn('owner tag ignored; default route used', { problem: plan.ownerProblem });
  if (plan.dropped > 0)
    deps.logger.warn('namespace routes over the limit not notified', {
      dropped: plan.dropped,
      limit: MAX_NAMESPACE_ROUTES,
    });
  const read = (name: string) =>
    deps.secrets.findSecretString(name, { versionStage: 'AWSCURRENT' }).then((value) => ({ name, value }));
  const [primary, namespaced] = await Promise.all([
    firstExisting(plan.candidates, read, deps),
    mapWithLimit(plan.also, MAX_NAMESPACE_ROUTES, read),
  ]);
  const found = [...(primary ? [primary] : [])];
  const missing: string[] = [];
  for (const route of namespaced) {
    if (route.name === primary?.name) continue;
    if (route.value === undefined) missing.push(route.name);
    else found.push({ name: route.name, value: route.value });
  }
  if (missing.length > 0) {
    deps.metrics.addMetric('NotificationsRouteMissing', 'Count', missing.length);
    deps.logger.info('namespace routes that do not exist skipped', { routes: missing });
  }
  const targets: WebhookTarget[] = [];
  const failures: WebhookRouteInvalidError[] = [];
  for (const route of found) {
    try {
      targets.push(parseWebhookTarget(route.name, route.value));
    } catch (error) {
      if (!(error instanceof WebhookRouteInvalidError)) throw error;
      failures.push(error);
    }
  }
  return { targets, missing, failures };
}

/** The first of the owner's and the default route that exists. */
async function firstExisting(
  candidates: readonly string[],
  read: (name: string) => Promise<{ name: string; value: string | undefined }>,
  deps: NotifyDeps,
): Promise<{ name: string; value: string } | undefined> {
  for (const [index, name] of candidates.entries()) {
    const route = await read(name);
    if (route.value !== undefined) return { name, value: route.value };
    if (index === 0 && candidates.length > 1)
      deps.logger.info('owner has no route; default route used', { route: name });
  }
  return undefined;
}

function skipped(deps: NotifyDeps, reason: string): NotifyResult {
  deps.logger.info('no notification', { reason });
  deps.metrics.addMetric('NotificationsSkipped', 'Count', 1);
  return { skipped: reason };
}
