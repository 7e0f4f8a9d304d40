import { SecretShapeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { RotationStrategy, StagedValues } from '../strategy';
import {
  type DatabaseStrategyDeps,
  loginOf,
  newPassword,
  parseFor,
  testPending,
  tryLogin,
  withFields,
  withSession,
} from './database-login';
import type { DatabaseSecret } from './database-secret';
import { DatabaseLoginError } from './errors';

/**
 * Single user, as AWS's single-user templates: the user changes its own password. setSecret logs in
 * with AWSPENDING first (already set: nothing to do), then AWSCURRENT, then AWSPREVIOUS, and sets
 * the pending password through the first that works. The old password stops working at once, so
 * revokePrevious has nothing left to do and calls no database.
 */
export function singleUserStrategy(name: string, deps: DatabaseStrategyDeps): RotationStrategy {
  return {
    name,
    async createValue({ secret, current }) {
      const database = parseFor(deps.engine, secret, current, 'AWSCURRENT');
      return withFields(database, { password: await newPassword(deps, secret) });
    },
    // setSecret changed this very user's password: the previous one no longer logs in.
    previousStillValid: async () => ({
      valid: false,
      reason:
        'single-user rotation changed the user’s own password at setSecret, so the previous password no longer logs in (alternating users keep it valid until revoked)',
    }),
    async applyToTarget({ secret, pending, staged }) {
      const target = parseFor(deps.engine, secret, pending, 'AWSPENDING');
      const already = await tryLogin(deps.engine, loginOf(target, deps.tlsByDefault));
      if (already) return withSession(already, async () => {});
      for (const candidate of await loginCandidates(deps, secret, staged, target)) {
        const session = await tryLogin(deps.engine, loginOf(candidate, deps.tlsByDefault));
        if (session) {
          return withSession(session, (open) => open.setOwnPassword(target.username, target.password));
        }
      }
      throw new DatabaseLoginError(
        `None of the AWSPENDING, AWSCURRENT and AWSPREVIOUS values of "${secret.name}" can log in; nothing was changed`,
      );
    },
    test: ({ secret, pending }) => testPending(deps, secret, pending),
    revokePrevious: async () => ({ status: 'nothing-to-revoke', reason: 'single-user' }),
  };
}

/** AWSCURRENT, then AWSPREVIOUS when it is a database secret of the same user. */
async function loginCandidates(
  deps: DatabaseStrategyDeps,
  secret: SecretDescription,
  staged: StagedValues,
  target: DatabaseSecret,
): Promise<DatabaseSecret[]> {
  const current = parseFor(deps.engine, secret, await staged.current(), 'AWSCURRENT');
  if (current.username !== target.username) {
    throw new SecretShapeError(
      `The AWSPENDING and AWSCURRENT values of "${secret.name}" name different users; a single-user rotation keeps the user`,
    );
  }
  const candidates = [current];
  const previousValue = await staged.previous();
  if (previousValue === undefined) return candidates;
  try {
    const previous = parseFor(deps.engine, secret, previousValue, 'AWSPREVIOUS');
    if (previous.username === target.username) candidates.push(previous);
  } catch (error) {
    // A previous version of another shape (e.g. before the secret held JSON) cannot log in.
    if (!(error instanceof SecretShapeError)) throw error;
  }
  return candidates;
}
