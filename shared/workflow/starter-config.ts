import { type FunctionEnvironment, managedPrefixesVariable, parseEnvironment } from '../config';
import * as z from '../schema';

/** The starter function's environment: the variables it parses at cold start. */
export const starterEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_STATE_MACHINE_ARN: z.string().check(z.startsWith('arn:')),
  ROTATOR_LEDGER_TABLE: z.string().check(z.minLength(3), z.maxLength(255)),
});

export interface StarterConfig {
  readonly managedPrefixes: readonly string[];
  readonly stateMachineArn: string;
  readonly ledgerTableName: string;
}

/** Reads the starter function's configuration once, at cold start, failing fast. */
export function loadStarterConfig(env: Readonly<Record<string, string | undefined>>): StarterConfig {
  const c = parseEnvironment(starterEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    stateMachineArn: c.ROTATOR_STATE_MACHINE_ARN,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
  };
}

/** The starter function's environment for `config` (it has no defaults); the inverse of {@link loadStarterConfig}. */
export function starterEnvironment(config: StarterConfig): FunctionEnvironment {
  return {
    ROTATOR_MANAGED_PREFIXES: config.managedPrefixes.join(','),
    ROTATOR_STATE_MACHINE_ARN: config.stateMachineArn,
    ROTATOR_LEDGER_TABLE: config.ledgerTableName,
  };
}
