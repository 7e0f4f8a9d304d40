import type { SecretDescription } from '../secrets/secrets-port';

/**
 * One way of rotating a secret. `generated` makes new random values; a database strategy would
 * also change the password in the database (`applyToTarget`) and log in with it (`test`).
 */
export interface RotationStrategy {
  readonly name: string;
  /** The value for the AWSPENDING version, derived from the current one. */
  createValue(input: { readonly secret: SecretDescription; readonly current: string }): Promise<string>;
  /** Makes the system that uses the secret accept the pending value (setSecret). */
  applyToTarget(input: { readonly secret: SecretDescription; readonly pending: string }): Promise<void>;
  /** Proves the pending value is usable before AWSCURRENT moves (testSecret). */
  test(input: { readonly secret: SecretDescription; readonly pending: string }): Promise<void>;
}
