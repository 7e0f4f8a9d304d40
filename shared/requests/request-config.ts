import { z } from 'zod';
import { managedPrefixesVariable, parseEnvironment } from '../config';
import type { RotationRequestConfig } from './request-rotation';

const requestEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_STUCK_AFTER_MINUTES: z.coerce.number().int().min(5).max(10_080).default(60),
  ROTATOR_LEDGER_TABLE: z.string({ error: 'is required (the rotation ledger table name)' }).min(3).max(255),
});

/** Reads the rotation-request function's configuration once, at cold start, failing fast. */
export function loadRequestConfig(
  env: Readonly<Record<string, string | undefined>>,
): RotationRequestConfig & {
  readonly ledgerTableName: string;
} {
  const c = parseEnvironment(requestEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    stuckAfterMs: c.ROTATOR_STUCK_AFTER_MINUTES * 60_000,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
  };
}
