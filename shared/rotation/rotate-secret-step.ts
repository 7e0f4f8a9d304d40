import type { RotationConfig } from '../config';
import type { RotationLogger, RotationMetrics } from '../observability';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretsPort } from '../secrets/secrets-port';
import { parseRotationEvent } from './rotation-event';
import { ROTATION_STEP_HANDLERS, type RotationStepSecrets, type StepOutcome } from './rotation-steps';
import { decideStep } from './step-guard';
import { type StrategyRegistry, selectStrategy } from './strategy-registry';

export interface RotationDeps {
  readonly config: RotationConfig;
  readonly secrets: Pick<SecretsPort, 'describeSecret'> & RotationStepSecrets;
  readonly strategies: StrategyRegistry;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
}

export interface StepResult {
  readonly step: string;
  readonly secretArn: string;
  readonly versionId: string;
  readonly outcome: StepOutcome;
}

/**
 * Runs one step of Secrets Manager's rotation protocol for one secret version.
 * Refuses malformed events and unmanaged secrets before any AWS call; appends the secret name,
 * version and step to the log keys (never the value), so the handler's one failure line
 * (logFailureOnce) carries them; emits duration and outcome metrics, failures included.
 */
export async function rotateSecretStep(rawEvent: unknown, deps: RotationDeps): Promise<StepResult> {
  const started = performance.now();
  let step = 'unknown';
  try {
    const event = parseRotationEvent(rawEvent);
    step = event.Step;
    deps.logger.appendKeys({ secretId: event.SecretId, versionId: event.ClientRequestToken, step });
    const secret = await describeManagedSecret(deps.secrets, event.SecretId, deps.config.managedPrefixes);
    const decision = decideStep(secret, event.ClientRequestToken);
    const outcome =
      decision.kind === 'already-current'
        ? 'already-current'
        : await ROTATION_STEP_HANDLERS[event.Step]({
            event,
            secret,
            secrets: deps.secrets,
            strategy: selectStrategy(secret, deps.strategies),
          });

    deps.logger.info('rotation step done', { outcome });
    recordStep(deps.metrics, step, 'Success', started);
    return { step, secretArn: secret.arn, versionId: event.ClientRequestToken, outcome };
  } catch (error) {
    recordStep(deps.metrics, step, 'Failure', started);
    throw error;
  }
}

/** Stored on the invocation's metrics; Powertools' logMetrics middleware flushes them as one EMF line. */
function recordStep(metrics: RotationMetrics, step: string, outcome: 'Success' | 'Failure', started: number) {
  metrics.addDimension('Step', step);
  metrics.addMetric('StepDuration', 'Milliseconds', performance.now() - started);
  metrics.addMetric(outcome === 'Success' ? 'StepSucceeded' : 'StepFailed', 'Count', 1);
}
