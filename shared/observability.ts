import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'secret-rotation-orchestrator';
export const METRICS_NAMESPACE = 'SecretRotationOrchestrator';

/** The logger calls the domain makes. Structured JSON; callers never pass a secret value. */
export type RotationLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'appendKeys'>;
/** The metrics calls the domain makes (EMF through Powertools); it never uses what they return. */
export interface RotationMetrics {
  addDimension(name: string, value: string): void;
  addMetric(name: string, unit: Parameters<Metrics['addMetric']>[1], value: number): void;
}

/** Created once per Lambda container, at module scope of a handler. */
export function createLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
}

export function createMetrics(): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  });
}
