/**
 * Scheduled sweep: lists the managed secrets, publishes each one's age, starts rotations that are
 * overdue and reports stuck ones. Wiring only; the logic is in shared/sweep/run-sweep.ts.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { SweepAdapter } from '../../shared/aws/sweep-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import { runSweep } from '../../shared/sweep/run-sweep';
import { loadSweepConfig } from '../../shared/sweep/sweep-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadSweepConfig(process.env);
const port = new SweepAdapter(new SecretsManagerClient({}), config.managedPrefixes);

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(() => runSweep({ port, config, logger, metrics, now: new Date() }));
