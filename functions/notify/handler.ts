/**
 * Notifications: the target of the EventBridge rule on the propagation workflow's ended executions
 * (Step Functions Execution Status Change: SUCCEEDED, FAILED, TIMED_OUT, ABORTED). Posts one
 * Slack- or Teams-format message to the webhook of the secret owner's route (tag `rotator:owner`),
 * or of the default route, and one to each route that the touched Namespaces' annotations asked for
 * (read from the ledger; this function never reaches a cluster). Wiring only; the logic is in
 * shared/notifications/notify-propagation.ts.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { logFailureOnce } from '../../shared/log-failure-once';
import { loadNotifyConfig } from '../../shared/notifications/notify-config';
import { notifyPropagation } from '../../shared/notifications/notify-propagation';
import { deliverWebhook } from '../../shared/notifications/webhook-delivery';
import { createLogger, createMetrics } from '../../shared/observability';

const logger = createLogger();
const metrics = createMetrics();
const config = loadNotifyConfig(process.env);

const deps = {
  config,
  secrets: new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS)),
  ledger: new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName),
  deliver: deliverWebhook,
  logger,
  metrics,
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'notification not sent'))
  .handler((event: unknown, _context, { signal }) => notifyPropagation(event, deps, { signal }));
