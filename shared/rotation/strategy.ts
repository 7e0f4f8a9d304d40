import type { SecretDescription } from '../secrets/secrets-port';

/**
 * The other staged values of the secret, read only when a strategy asks: a database strategy's
 * setSecret logs in with AWSCURRENT, then AWSPREVIOUS, when AWSPENDING cannot log in yet.
 */
export interface StagedValues {
  /** The AWSCURRENT value. */
  current(): Promise<string>;
  /** The AWSPREVIOUS value; `undefined` when no version has that label. */
  previous(): Promise<string | undefined>;
}

/**
 * One way of rotating a secret. `generated` makes new random values; the database strategies
 * (shared/rotation/database/) also change the password in the database (`applyToTarget`) and log
 * in with it (`test`).
 */
export interface RotationStrategy {
  readonly name: string;
  /** The value for the AWSPENDING version, derived from the current one. */
  createValue(input: { readonly secret: SecretDescription; readonly current: string }): Promise<string>;
  /**
   * Makes the system that uses the secret accept the pending value (setSecret). Repeating it once
   * it succeeded must change nothing.
   */
  applyToTarget(input: {
    readonly secret: SecretDescription;
    readonly pending: string;
    readonly staged: StagedValues;
  }): Promise<void>;
  /** Proves the pending value is usable before AWSCURRENT moves (testSecret). */
  test(input: { readonly secret: SecretDescription; readonly pending: string }): Promise<void>;
}
