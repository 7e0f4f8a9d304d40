import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { AWS_CLIENT_OPTIONS } from '../aws/client-options';
import { SecretsManagerAdapter } from '../aws/secrets-manager-adapter';
import { DynamoDbLedger } from '../ledger/dynamodb-ledger';
import { logFailureOnce } from '../log-failure-once';
import { createLogger, createMetrics } from '../observability';
import { loadRequestConfig } from './request-config';
import type { RotationRequestDeps } from './request-rotation';

/**
 * The Lambda handler of a function that takes rotation requests (the request bus's and the
 * emergency URL's): configuration read once from the environment, Secrets Manager and the ledger,
 * Powertools' logger and metrics, and one error log per failed invocation; `handle` is the entry
 * that decides what the event may ask for.
 * @example export const handler = requestFunctionHandler(handleRequestedEvent, 'rotation request refused or failed');
 */
export function requestFunctionHandler(
  handle: (event: unknown, deps: RotationRequestDeps) => Promise<unknown>,
  failureMessage: string,
) {
  const logger = createLogger();
  const metrics = createMetrics();
  const config = loadRequestConfig(process.env);
  const deps: RotationRequestDeps = {
    config,
    port: new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS)),
    ledger: new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName),
    logger,
    metrics,
  };
  return middy()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(logFailureOnce(logger, failureMessage))
    .handler((event: unknown) => handle(event, deps));
}
