import { Metrics } from '@aws-lambda-powertools/metrics';
import { RotationRequestAdapter } from '../aws/rotation-request-adapter';
import { METRICS_NAMESPACE, type RotationLogger } from '../observability';
import { type RotationRequestResult, requestRotation } from '../requests/request-rotation';
import { type CliContext, requireLedger } from './cli-context';

// The CLI reports to the operator itself: Lambda-style JSON logs would only be noise, and the
// metrics are collected but never flushed (EMF means something only in CloudWatch Logs).
const quietLogger: RotationLogger = { info() {}, warn() {}, error() {}, appendKeys() {} };

/** requestRotation (shared/requests) over this run's Secrets Manager client, ledger and prefixes. */
export function bindRequestRotation(ctx: CliContext): (input: unknown) => Promise<RotationRequestResult> {
  const deps = {
    port: new RotationRequestAdapter(ctx.services.secretsManager),
    ledger: requireLedger(ctx),
    config: { managedPrefixes: ctx.prefixes, stuckAfterMs: ctx.stuckAfterMs },
    logger: quietLogger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE }),
    now: ctx.now,
  };
  return (input) => requestRotation(input, deps);
}
