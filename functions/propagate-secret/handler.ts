/**
 * Propagation starter: the target of the EventBridge rules (and of the sweep's reconciler). Turns
 * "a managed secret has a new AWSCURRENT version" into one Step Functions execution named for the
 * secret and version. Wiring only; the logic is in shared/workflow/start-propagation.ts.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { StepFunctionsStarter } from '../../shared/aws/step-functions-starter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { logFailureOnce } from '../../shared/log-failure-once';
import { createLogger, createMetrics } from '../../shared/observability';
import { startPropagation } from '../../shared/workflow/start-propagation';
import { loadStarterConfig } from '../../shared/workflow/starter-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadStarterConfig(process.env);

const deps = {
  managedPrefixes: config.managedPrefixes,
  secrets: new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS)),
  ledger: new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName),
  starter: new StepFunctionsStarter(new SFNClient(AWS_CLIENT_OPTIONS), config.stateMachineArn),
  logger,
  metrics,
  now: () => new Date(),
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'propagation not started'))
  .handler((event: unknown) => startPropagation(event, deps));
