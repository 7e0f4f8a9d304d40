/**
 * The notify function's one call: an ended propagation execution becomes one webhook message to
 * the secret owner's route (or the default route). Reads the secret's tags (DescribeSecret, never a
 * value), the execution's ledger record, and the route's secret; posts; logs the route's secret
 * name, never its URL.
 */

import { WebhookDeliveryError } from '../errors';
import type { LedgerPort } from '../ledger/ledger-port';
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
import { parseWebhookTarget, planRoute, type WebhookTarget } from './routing';
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

export type NotifyResult =
  | { readonly skipped: string }
  | {
      readonly sent: {
        readonly route: string;
        readonly format: WebhookTarget['format'];
        readonly outcome: PropagationNotification['outcome'];
        readonly attempts: number;
      };
    };

/**
 * @example await notifyPropagation(event, deps, { signal }) // { sent: { route: 'ops/notify/payments', format: 'slack', … } }
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
  const plan = planNotification(
    ended,
    secret.name,
    recordOfExecution(history, ended.executionName, ended.versionId),
  );
  if ('skip' in plan) return skipped(deps, plan.skip);

  const target = await findRoute(secret.tags, deps);
  if (!target) {
    deps.metrics.addMetric('NotificationsUnrouted', 'Count', 1);
    deps.logger.warn('no notification route: neither the owner nor the default route exists');
    return { skipped: 'no route' };
  }
  const summary = summarize(plan.notify);
  const message = target.format === 'slack' ? slackMessage(summary) : teamsMessage(summary);
  try {
    const delivered = await deps.deliver(target, message, {
      timeoutMs: deps.config.webhookTimeoutMs,
      attempts: deps.config.webhookAttempts,
      signal: options.signal,
    });
    deps.metrics.addMetric('NotificationsSent', 'Count', 1);
    const sent = {
      route: target.routeSecretName,
      format: target.format,
      outcome: plan.notify.outcome,
      attempts: delivered.attempts,
    };
    deps.logger.info('notification sent', sent);
    return { sent };
  } catch (error) {
    // Logged once by the handler's logFailureOnce; the error names the route, never the URL.
    if (error instanceof WebhookDeliveryError) deps.metrics.addMetric('NotificationsFailed', 'Count', 1);
    throw error;
  }
}

/** The first route that exists: the owner's, then the default. A route that exists but is malformed throws. */
async function findRoute(
  tags: Readonly<Record<string, string>>,
  deps: NotifyDeps,
): Promise<WebhookTarget | undefined> {
  const plan = planRoute(tags, {
    prefix: deps.config.notificationsPrefix,
    defaultRoute: deps.config.defaultRoute,
  });
  if (plan.ownerProblem)
    deps.logger.warn('owner tag ignored; default route used', { problem: plan.ownerProblem });
  for (const [index, name] of plan.candidates.entries()) {
    const value = await deps.secrets.findSecretString(name, { versionStage: 'AWSCURRENT' });
    if (value !== undefined) return parseWebhookTarget(name, value);
    if (index === 0 && plan.candidates.length > 1)
      deps.logger.info('owner has no route; default route used', { route: name });
  }
  return undefined;
}

function skipped(deps: NotifyDeps, reason: string): NotifyResult {
  deps.logger.info('no notification', { reason });
  deps.metrics.addMetric('NotificationsSkipped', 'Count', 1);
  return { skipped: reason };
}
