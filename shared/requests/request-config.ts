import {
  definedOnly,
  type FunctionEnvironment,
  managedPrefixesVariable,
  parseEnvironment,
  wholeNumberVariable,
  wholeUnitsOf,
} from '../config';
import * as z from '../schema';
import type { RotationRequestConfig } from './request-rotation';

export type RequestConfig = RotationRequestConfig & { readonly ledgerTableName: string };

/** The request function's defaults, for what infra does not set: the one place they are written. */
export const REQUEST_DEFAULTS = {
  stuckAfterMs: 3_600_000,
  emergencyCooldownMs: 900_000,
} as const satisfies Partial<RequestConfig>;

/** What infra sets for the request function: what has no default, and any default it overrides. */
export type RequestSettings = Omit<RequestConfig, keyof typeof REQUEST_DEFAULTS> &
  Partial<Pick<RequestConfig, keyof typeof REQUEST_DEFAULTS>>;

/** The rotation-request function's environment: the variables it parses at cold start. */
export const requestEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_STUCK_AFTER_MINUTES: z._default(
    wholeNumberVariable(5, 10_080),
    REQUEST_DEFAULTS.stuckAfterMs / 60_000,
  ),
  /** 0 disables the per-secret emergency cooldown; at most a day. */
  ROTATOR_EMERGENCY_COOLDOWN_MINUTES: z._default(
    wholeNumberVariable(0, 1440),
    REQUEST_DEFAULTS.emergencyCooldownMs / 60_000,
  ),
  ROTATOR_LEDGER_TABLE: z
    .string({ error: 'is required (the rotation ledger table name)' })
    .check(z.minLength(3), z.maxLength(255)),
});

/** Reads the rotation-request function's configuration once, at cold start, failing fast. */
export function loadRequestConfig(env: Readonly<Record<string, string | undefined>>): RequestConfig {
  const c = parseEnvironment(requestEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    stuckAfterMs: c.ROTATOR_STUCK_AFTER_MINUTES * 60_000,
    emergencyCooldownMs: c.ROTATOR_EMERGENCY_COOLDOWN_MINUTES * 60_000,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
  };
}

/**
 * The rotation-request function's environment for `settings`, every default written out; the
 * inverse of {@link loadRequestConfig}.
 */
export function requestEnvironment(settings: RequestSettings): FunctionEnvironment {
  const s = { ...REQUEST_DEFAULTS, ...definedOnly(settings) };
  return {
    ROTATOR_MANAGED_PREFIXES: s.managedPrefixes.join(','),
    ROTATOR_STUCK_AFTER_MINUTES: wholeUnitsOf(s.stuckAfterMs, 'minutes', 'ROTATOR_STUCK_AFTER_MINUTES'),
    ROTATOR_EMERGENCY_COOLDOWN_MINUTES: wholeUnitsOf(
      s.emergencyCooldownMs,
      'minutes',
      'ROTATOR_EMERGENCY_COOLDOWN_MINUTES',
    ),
    ROTATOR_LEDGER_TABLE: s.ledgerTableName,
  };
}
