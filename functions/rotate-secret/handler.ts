/**
 * Rotation function that Secrets Manager invokes for each step of a rotation
 * (createSecret, setSecret, testSecret, finishSecret) of a secret with generated values. Wiring
 * only; the logic is in shared/rotation/rotate-secret-step.ts. Database credentials are rotated by
 * functions/rotate-database-secret, which carries the drivers.
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
import { generatedStrategies } from '../../shared/rotation/default-strategies';
import { rotateSecretStep } from '../../shared/rotation/rotate-secret-step';
import { isRotatorAction, runRotatorAction } from '../../shared/rotation/rotator-actions';

const logger = createLogger();
const metrics = createMetrics();
const config = loadRotationConfig(process.env);
const secrets = new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS));
const deps = { config, secrets, strategies: generatedStrategies(secrets, config), logger, metrics };

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'rotation step failed'))
  .handler((event: unknown) =>
    // The propagation workflow's rollBack (or revokePrevious: nothing to revoke for generated
    // values); else a step from Secrets Manager.
    isRotatorAction(event) ? runRotatorAction(event, deps) : rotateSecretStep(event, deps),
  );
