/**
 * Emergency rotations: rotates one managed secret now, asked through the IAM-authorized function
 * URL (AuthType AWS_IAM), the one entry whose caller Lambda itself authenticates; the only function
 * that honours emergency and retire-previous. Wiring only; the logic is in
 * shared/requests/handle-rotation-request.ts.
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
import { createLogger, createMetrics } from '../../shared/observability';
import { handleFunctionUrl } from '../../shared/requests/handle-rotation-request';
import { loadRequestConfig } from '../../shared/requests/request-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadRequestConfig(process.env);
const deps = {
  config,
  port: new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS)),
  ledger: new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName),
  logger,
  metrics,
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'emergency request refused or failed'))
  .handler((event: unknown) => handleFunctionUrl(event, deps));
