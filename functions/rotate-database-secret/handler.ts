/**
 * Rotation function for database credentials (PostgreSQL, MySQL, MariaDB) in the JSON shape AWS
 * documents: the four steps of shared/rotation/rotate-secret-step.ts with the strategies of
 * shared/rotation/database. A function of its own so that only it carries the drivers, may run in
 * the databases' VPC and may read the master secrets; functions/rotate-secret rotates the rest.
 * The propagation workflow also invokes it to revoke the previous credential
 * (shared/rotation/revoke-previous.ts) once every consumer runs the new one.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { loadRotationConfig } from '../../shared/config';
import { logFailureOnce } from '../../shared/log-failure-once';
import { createLogger, createMetrics } from '../../shared/observability';
import { databaseStrategies } from '../../shared/rotation/default-strategies';
import { rotateSecretStep } from '../../shared/rotation/rotate-secret-step';
import { isRotatorAction, runRotatorAction } from '../../shared/rotation/rotator-actions';

const logger = createLogger();
const metrics = createMetrics();
const config = loadRotationConfig(process.env);
const secrets = new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS));
const deps = {
  config,
  secrets,
  strategies: databaseStrategies(secrets, config, {
    tlsByDefault: config.databaseTlsByDefault,
    rdsCertificates: config.databaseRdsCertificates,
  }),
  logger,
  metrics,
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'rotation step failed'))
  .handler((event: unknown) =>
    // The propagation workflow's revokePrevious or rollBack; else a step from Secrets Manager.
    isRotatorAction(event) ? runRotatorAction(event, deps) : rotateSecretStep(event, deps),
  );
