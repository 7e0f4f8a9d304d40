import { managedPrefixesVariable, parseEnvironment, wholeNumberVariable } from '../config';
import * as z from '../schema';
import type { RotationRequestConfig } from './request-rotation';

const requestEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_STUCK_AFTER_MINUTES: z._default(wholeNumberVariable(5, 10_080), 60),
  ROTATOR_LEDGER_TABLE: z
    .string({ error: 'is required (the rotation ledger table name)' })
    .check(z.minLength(3), z.maxLength(255)),
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
