import { randomBytes } from 'node:crypto';
import { SecretShapeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { RevokeOutcome } from '../strategy';
import { loginOf, parseFor, tryLogin, withSession } from './database-login';
import { alternateUsername, type DatabaseSecret } from './database-secret';
import { RevokeRefusedError } from './errors';
import { type MasterSecretDeps, openMasterSession } from './master-session';

/** What revoking would do, decided from the two values alone. */
export type RevokePlan =
  | { readonly kind: 'revoke'; readonly previous: DatabaseSecret }
  | { readonly kind: 'nothing-to-revoke'; readonly reason: 'no-previous' | 'same-user' };

/**
 * Decides whether the AWSPREVIOUS user of an alternating-users secret may be revoked: only when it
 * is the alternate of the AWSCURRENT user (`app` ⇄ `app_clone`) on the same server. The AWSCURRENT
 * user is never a target: the same name means nothing to revoke, any other name is refused.
 * @example planRevoke(secret, { username: 'app', … }, { username: 'app_clone', … }) // { kind: 'revoke', … }
 */
export function planRevoke(
  secret: SecretDescription,
  current: DatabaseSecret,
  previous: DatabaseSecret | undefined,
): RevokePlan {
  if (previous === undefined) return { kind: 'nothing-to-revoke', reason: 'no-previous' };
  if (previous.username === current.username) return { kind: 'nothing-to-revoke', reason: 'same-user' };
  if (previous.username !== alternateUsername(current.username)) {
    throw new RevokeRefusedError(
      `The AWSPREVIOUS user of "${secret.name}" is not the alternate of its AWSCURRENT user; nothing was changed`,
    );
  }
  if (previous.host !== current.host || previous.port !== current.port) {
    throw new RevokeRefusedError(
      `The AWSPREVIOUS value of "${secret.name}" names another database server than AWSCURRENT; nothing was changed`,
    );
  }
  return { kind: 'revoke', previous };
}

/**
 * Alternating users' revokePrevious: when the AWSPREVIOUS credential still logs in, the master
 * changes that user's password to {@link unrecordedPassword}; when it no longer does, nothing is
 * changed (`already-revoked`), so a repeated call is safe. The next rotation sets a known password
 * on that user through the master, as it always does.
 */
export async function revokePreviousUser(
  deps: MasterSecretDeps,
  input: {
    readonly secret: SecretDescription;
    readonly current: string;
    readonly previous: string | undefined;
  },
): Promise<RevokeOutcome> {
  const { secret } = input;
  const current = parseFor(deps.engine, secret, input.current, 'AWSCURRENT');
  const plan = planRevoke(secret, current, parsePrevious(deps, secret, input.previous));
  if (plan.kind === 'nothing-to-revoke' && plan.reason === 'no-previous') {
    return revokeAlternate(deps, secret, current);
  }
  if (plan.kind === 'nothing-to-revoke') return { status: 'nothing-to-revoke', reason: plan.reason };
  const username = plan.previous.username;
  const stillWorks = await tryLogin(deps.engine, loginOf(plan.previous, deps.tlsByDefault));
  if (stillWorks === undefined) return { status: 'already-revoked', username };
  await withSession(stillWorks, async () => {});
  const master = await openMasterSession(deps, secret, current);
  await withSession(master, (open) => open.setPassword(username, unrecordedPassword()));
  return { status: 'revoked', username };
}

/**
 * No AWSPREVIOUS to read (a rollback leaves the failed version with no label, an emergency retired
 * it): the alternate of the AWSCURRENT user is the only other credential of the pair, and nobody
 * should log in with it once every consumer runs AWSCURRENT. The master gives it an unrecorded
 * password when it exists; there is no credential to try first, so a repeat changes it again.
 */
async function revokeAlternate(
  deps: MasterSecretDeps,
  secret: SecretDescription,
  current: DatabaseSecret,
): Promise<RevokeOutcome> {
  const username = alternateUsername(current.username);
  const master = await openMasterSession(deps, secret, current);
  return withSession(master, async (open) => {
    if (!(await open.userExists(username))) {
      return { status: 'nothing-to-revoke', reason: 'no-previous' } as const;
    }
    await open.setPassword(username, unrecordedPassword());
    return { status: 'revoked', username } as const;
  });
}

/** AWSPREVIOUS as a database secret; `undefined` when absent or of another shape (it names no user we know). */
function parsePrevious(
  deps: MasterSecretDeps,
  secret: SecretDescription,
  value: string | undefined,
): DatabaseSecret | undefined {
  if (value === undefined) return undefined;
  try {
    return parseFor(deps.engine, secret, value, 'AWSPREVIOUS');
  } catch (error) {
    if (error instanceof SecretShapeError) return undefined;
    throw error;
  }
}

/**
 * 256 random bits from node:crypto as base64url (`A–Z a–z 0–9 - _`, 43 characters): no character
 * either engine's connection strings or quoting treats specially. Used once and never kept,
 * returned, logged or put in an error.
 */
export function unrecordedPassword(): string {
  return randomBytes(32).toString('base64url');
}
