/**
 * Scheduled sweep: lists the managed secrets, publishes each one's age, starts rotations that are
 * overdue (recorded in the ledger first when ROTATOR_LEDGER_TABLE is set), repairs stuck ones, sets
 * the rotation schedules that prefix rules and `rotator:schedule` tags ask for (given
 * ROTATOR_ROTATION_FUNCTION_ARN), and (when propagation is deployed: the ledger and the state
 * machine) starts a propagation for every AWSCURRENT version the ledger has not seen reach the
 * clusters. Wiring only; the logic is in
 * shared/sweep/run-sweep.ts.
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
import { runSweep } from '../../shared/sweep/run-sweep';
import { loadSweepConfig } from '../../shared/sweep/sweep-config';
import { workflowPropagationStarter } from '../../shared/workflow/start-propagation';

const logger = createLogger();
const metrics = createMetrics();
const config = loadSweepConfig(process.env);
const port = new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS));
const ledger = config.ledgerTableName
  ? new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName)
  : undefined;

function reconcileDeps() {
  if (!ledger || !config.stateMachineArn) return undefined;
  const starter = workflowPropagationStarter({
    managedPrefixes: config.managedPrefixes,
    secrets: port,
    ledger,
    starter: new StepFunctionsStarter(new SFNClient(AWS_CLIENT_OPTIONS), config.stateMachineArn),
    logger,
    metrics,
    now: () => new Date(),
  });
  return { ledger, starter };
}
const reconcile = reconcileDeps();

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'sweep failed'))
  .handler(() => runSweep({ port, config, logger, metrics, now: new Date(), ledger, reconcile }));
