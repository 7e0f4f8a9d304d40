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
 * What revoking the previous credential did; never a value.
 * - `revoked`: the previous user's password was changed to a random value nobody knows;
 * - `already-revoked`: the previous credential no longer logs in (a repeated call), nothing changed;
 * - `nothing-to-revoke`: nothing changed, because the strategy keeps one user (`single-user`), no
 *   version is AWSPREVIOUS or it holds no database user (`no-previous`), or AWSPREVIOUS names the
 *   user AWSCURRENT uses (`same-user`), whose password must not change.
 */
export type RevokeOutcome =
  | { readonly status: 'revoked' | 'already-revoked'; readonly username: string }
  | { readonly status: 'nothing-to-revoke'; readonly reason: 'single-user' | 'no-previous' | 'same-user' };

/**
 * One way of rotating a secret. `generated` makes new random values; the database strategies
 * (shared/rotation/database/) also change the password in the database (`applyToTarget`), log
 * in with it (`test`), and can make the previous credential useless once no consumer needs it
 * (`revokePrevious`).
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
  /**
   * Makes the AWSPREVIOUS credential stop logging in, never touching the AWSCURRENT one; called only
   * once every consumer uses AWSCURRENT. Repeating it is safe. Absent: the strategy has nothing
   * outside Secrets Manager to revoke (`generated`).
   */
  revokePrevious?(input: {
    readonly secret: SecretDescription;
    readonly current: string;
    readonly previous: string | undefined;
  }): Promise<RevokeOutcome>;
  /**
   * Whether the AWSPREVIOUS value would still work if AWSCURRENT moved back to it (an automatic
   * rollback after a failed propagation): `generated` changed nothing outside Secrets Manager;
   * alternating users log in with it; single user changed that very password, so never. Absent:
   * rollback is refused.
   */
  previousStillValid?(input: {
    readonly secret: SecretDescription;
    readonly previous: string;
  }): Promise<PreviousValidity>;
}

/** {@link RotationStrategy.previousStillValid}'s answer; `reason` names no value. */
export type PreviousValidity = { readonly valid: true } | { readonly valid: false; readonly reason: string };
