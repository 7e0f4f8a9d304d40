import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import type { RotationLogger, RotationMetrics } from '../shared/observability';
import { type RotationRequestResult, requestRotation } from '../shared/requests/request-rotation';
import { type CliContext, requireLedger } from './cli-context';

// The CLI reports to the operator itself: Lambda-style JSON logs would only be noise, and metrics
// mean something only as EMF in CloudWatch Logs, which a terminal is not, so neither is recorded.
const quietLogger: RotationLogger = { info() {}, warn() {}, error() {}, appendKeys() {} };
const noMetrics: RotationMetrics = { addDimension() {}, addMetric() {} };

/** requestRotation (shared/requests) over this run's Secrets Manager client, ledger and prefixes. */
export function bindRequestRotation(ctx: CliContext): (input: unknown) => Promise<RotationRequestResult> {
  const deps = {
    port: new SecretsManagerAdapter(ctx.services.secretsManager),
    ledger: requireLedger(ctx),
    config: { managedPrefixes: ctx.prefixes, stuckAfterMs: ctx.stuckAfterMs },
    logger: quietLogger,
    metrics: noMetrics,
    now: ctx.now,
  };
  return (input) => requestRotation(input, deps);
}
