import { SecretShapeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { RotationStrategy } from '../strategy';
import {
  loginOf,
  newPassword,
  parseFor,
  testPending,
  tryLogin,
  withFields,
  withSession,
} from './database-login';
import { alternateUsername, originalUsername } from './database-secret';
import { type MasterSecretDeps, masterArnOf, openMasterSession } from './master-session';
import { revokePreviousUser } from './revoke-previous-user';

export type AlternatingUsersDeps = MasterSecretDeps;

/**
 * Alternating users, as AWS's multi-user templates: each rotation switches between `<user>` and
 * `<user>_clone`, and the master secret named by `masterarn` sets the other user's password,
 * creating the clone with the original's privileges the first time. The user in AWSPREVIOUS keeps
 * working until the next rotation, or until `revokePrevious` gives it a password nobody knows.
 */
export function alternatingUsersStrategy(name: string, deps: AlternatingUsersDeps): RotationStrategy {
  return {
    name,
    async createValue({ secret, current }) {
      const database = parseFor(deps.engine, secret, current, 'AWSCURRENT');
      masterArnOf(secret, database);
      const username = alternateUsername(database.username);
      assertUsernameFits(deps, secret, username);
      return withFields(database, { username, password: await newPassword(deps, secret) });
    },
    // The previous user keeps its password until revoked (only after a propagation succeeded): a
    // login with it says whether it still works.
    async previousStillValid({ secret, previous }) {
      const database = parseFor(deps.engine, secret, previous, 'AWSPREVIOUS');
      const session = await tryLogin(deps.engine, loginOf(database, deps.tlsByDefault));
      if (!session) {
        return { valid: false, reason: 'the previous user can no longer log in (revoked or changed)' };
      }
      await withSession(session, (open) => open.ping());
      return { valid: true };
    },
    async applyToTarget({ secret, pending, staged }) {
      const target = parseFor(deps.engine, secret, pending, 'AWSPENDING');
      const already = await tryLogin(deps.engine, loginOf(target, deps.tlsByDefault));
      if (already) return withSession(already, async () => {});
      const current = parseFor(deps.engine, secret, await staged.current(), 'AWSCURRENT');
      if (target.username !== alternateUsername(current.username)) {
        throw new SecretShapeError(
          `The AWSPENDING user of "${secret.name}" is not the alternate of its AWSCURRENT user`,
        );
      }
      const session = await openMasterSession(deps, secret, current);
      const original = originalUsername(target.username);
      await withSession(session, (open) =>
        target.username === original
          ? open.setPassword(original, target.password)
          : open.ensureClone(original, target.username, target.password),
      );
    },
    test: ({ secret, pending }) => testPending(deps, secret, pending),
    revokePrevious: (input) => revokePreviousUser(deps, input),
  };
}

function assertUsernameFits(deps: AlternatingUsersDeps, secret: SecretDescription, username: string): void {
  const length =
    deps.engine.family === 'postgres' ? Buffer.byteLength(username, 'utf8') : [...username].length;
  if (length > deps.engine.maxUsernameLength) {
    throw new SecretShapeError(
      `The alternate user of "${secret.name}" would be ${length} long, over ${deps.engine.family}'s ${deps.engine.maxUsernameLength}`,
    );
  }
}
