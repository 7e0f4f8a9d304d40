import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { alternatingUsersStrategy } from '../../shared/rotation/database/alternating-users-strategy';
import {
  CONNECTION_STRING_UNSAFE,
  type DatabaseEngine,
} from '../../shared/rotation/database/database-engine';
import {
  DatabaseLoginError,
  MasterSecretError,
  RevokeRefusedError,
} from '../../shared/rotation/database/errors';
import { unrecordedPassword } from '../../shared/rotation/database/revoke-previous-user';
import { singleUserStrategy } from '../../shared/rotation/database/single-user-strategy';
import { generatedStrategy } from '../../shared/rotation/generated-strategy';
import type { SecretDescription } from '../../shared/secrets/secrets-port';

const SECRET: SecretDescription = {
  arn: 'arn:x',
  name: 'prod/app/db',
  rotationEnabled: true,
  versionIdsToStages: {},
  tags: {},
};
const MASTER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/master-AbCdEf';
const PASSWORDS = {
  app: 'app-password-0001',
  app_clone: 'clone-password-0001',
  master: 'master-password-0001',
};

const value = (username: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    engine: 'postgres',
    host: 'db.internal',
    port: 5432,
    username,
    password: PASSWORDS[username as keyof typeof PASSWORDS] ?? 'unknown-password-0001',
    dbname: 'app',
    masterarn: MASTER_ARN,
    ...fields,
  });

/** A database in memory: users and passwords, every login tried and every password set. */
function fakeDatabase() {
  const users = new Map(Object.entries(PASSWORDS));
  const logins: string[] = [];
  const changes: { username: string; password: string }[] = [];
  const engine: DatabaseEngine = {
    family: 'postgres',
    excludedCharacters: CONNECTION_STRING_UNSAFE,
    maxUsernameLength: 63,
    async connect(login) {
      logins.push(login.username);
      if (users.get(login.username) !== login.password) {
        throw new DatabaseLoginError('PostgreSQL refused the login (SQLSTATE 28P01)');
      }
      return {
        ping: async () => {},
        setOwnPassword: async () => {
          throw new Error('not expected');
        },
        userExists: async (username) => users.has(username),
        setPassword: async (username, password) => {
          if (login.username !== 'master') throw new Error('only the master sets passwords');
          changes.push({ username, password });
          users.set(username, password);
        },
        ensureClone: async () => {
          throw new Error('not expected');
        },
        close: async () => {},
      };
    },
  };
  return { engine, users, logins, changes };
}

function alternating(database: ReturnType<typeof fakeDatabase>, master: () => Promise<string>) {
  return alternatingUsersStrategy('postgres-alternating-users', {
    engine: database.engine,
    passwords: async () => 'unused',
    deploymentPolicy: {},
    tlsByDefault: true,
    readSecret: async (secretId) => {
      expect(secretId).toBe(MASTER_ARN);
      return master();
    },
  });
}

const masterValue = async () => value('master');

describe('alternating users revokePrevious', () => {
  it('has the master give the previous user an unrecorded random password, leaving the current user alone', async () => {
    // Prepare
    const database = fakeDatabase();
    const strategy = alternating(database, masterValue);

    // Act
    const outcome = await strategy.revokePrevious?.({
      secret: SECRET,
      current: value('app_clone'),
      previous: value('app'),
    });

    // Assess
    expect(outcome).toEqual({ status: 'revoked', username: 'app' });
    expect(database.logins).toEqual(['app', 'master']);
    expect(database.changes.map((change) => change.username)).toEqual(['app']);
    const [change] = database.changes;
    expect(change?.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(change?.password).not.toBe(PASSWORDS.app);
    expect(database.users.get('app_clone')).toBe(PASSWORDS.app_clone);
    expect(`${JSON.stringify(outcome)}${inspect(outcome)}`).not.toContain(change?.password);
  });

  it('works the other way round: the clone is revoked when the original is current', async () => {
    const database = fakeDatabase();

    const outcome = await alternating(database, masterValue).revokePrevious?.({
      secret: SECRET,
      current: value('app'),
      previous: value('app_clone'),
    });

    expect(outcome).toEqual({ status: 'revoked', username: 'app_clone' });
    expect(database.users.get('app')).toBe(PASSWORDS.app);
  });

  it('is already-revoked on a repeat: the previous credential no longer logs in, and the master is not called', async () => {
    const database = fakeDatabase();
    const strategy = alternating(database, masterValue);
    const input = { secret: SECRET, current: value('app_clone'), previous: value('app') };
    await strategy.revokePrevious?.(input);
    database.logins.length = 0;

    const again = await strategy.revokePrevious?.(input);

    expect(again).toEqual({ status: 'already-revoked', username: 'app' });
    expect(database.logins).toEqual(['app']);
    expect(database.changes).toHaveLength(1);
  });

  // After a rollback the failed version has no label, so no AWSPREVIOUS names its user: the
  // alternate of AWSCURRENT's user is revoked through the master (finding of the rollback test).
  it.each([
    ['no version is AWSPREVIOUS', undefined],
    ['AWSPREVIOUS is not a database secret', 'plain-old-password-0001'],
  ])('revokes the alternate of the AWSCURRENT user through the master when %s', async (_case, previous) => {
    const database = fakeDatabase();

    const outcome = await alternating(database, masterValue).revokePrevious?.({
      secret: SECRET,
      current: value('app'),
      previous,
    });

    expect(outcome).toEqual({ status: 'revoked', username: 'app_clone' });
    expect(database.logins).toEqual(['master']);
    expect(database.changes.map((c) => c.username)).toEqual(['app_clone']);
    expect(database.users.get('app')).toBe(PASSWORDS.app);
  });

  it('has nothing to revoke when there is no AWSPREVIOUS and the alternate user does not exist', async () => {
    const database = fakeDatabase();
    database.users.delete('app_clone');

    const outcome = await alternating(database, masterValue).revokePrevious?.({
      secret: SECRET,
      current: value('app'),
      previous: undefined,
    });

    expect(outcome).toEqual({ status: 'nothing-to-revoke', reason: 'no-previous' });
    expect(database.changes).toEqual([]);
  });

  it.each([
    [
      'AWSPREVIOUS names the AWSCURRENT user',
      value('app_clone', { password: 'older-password-0001' }),
      'same-user',
    ],
  ] as const)('revokes nothing and connects to nothing when %s', async (_case, previous, reason) => {
    const database = fakeDatabase();

    const outcome = await alternating(database, masterValue).revokePrevious?.({
      secret: SECRET,
      current: value('app_clone'),
      previous,
    });

    expect(outcome).toEqual({ status: 'nothing-to-revoke', reason });
    expect(database.logins).toEqual([]);
  });

  it.each([
    ['AWSPREVIOUS names a user that is not the alternate of AWSCURRENT', value('reporting')],
    ['AWSPREVIOUS names another server', value('app', { host: 'old-db.internal' })],
    ['AWSPREVIOUS names another port', value('app', { port: 5433 })],
  ])('refuses with RevokeRefusedError, connecting to nothing, when %s', async (_case, previous) => {
    const database = fakeDatabase();

    const error = await alternating(database, masterValue)
      .revokePrevious?.({ secret: SECRET, current: value('app_clone'), previous })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RevokeRefusedError);
    expect(database.logins).toEqual([]);
    expect(database.changes).toEqual([]);
    expect(inspect(error)).not.toMatch(/password-0001/);
  });

  it('fails with MasterSecretError and changes nothing when the master secret cannot be read', async () => {
    const database = fakeDatabase();
    const strategy = alternating(database, async () => {
      throw new Error('AccessDeniedException');
    });

    const error = await strategy
      .revokePrevious?.({ secret: SECRET, current: value('app_clone'), previous: value('app') })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MasterSecretError);
    expect(database.changes).toEqual([]);
    expect(database.users.get('app')).toBe(PASSWORDS.app);
  });

  it('fails with DatabaseLoginError naming the master, and changes nothing, when the master cannot log in', async () => {
    const database = fakeDatabase();
    const strategy = alternating(database, async () => value('master', { password: 'wrong-master-0001' }));

    const error = await strategy
      .revokePrevious?.({ secret: SECRET, current: value('app_clone'), previous: value('app') })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DatabaseLoginError);
    expect((error as Error).message).toMatch(/master secret of "prod\/app\/db" cannot log in/);
    expect(database.changes).toEqual([]);
  });
});

describe('revokePrevious of the other strategies', () => {
  it('single user: nothing-to-revoke, with no database call', async () => {
    const database = fakeDatabase();
    const strategy = singleUserStrategy('postgres-single-user', {
      engine: database.engine,
      passwords: async () => 'unused',
      deploymentPolicy: {},
      tlsByDefault: true,
    });

    const outcome = await strategy.revokePrevious?.({
      secret: SECRET,
      current: value('app'),
      previous: value('app', { password: 'older-password-0001' }),
    });

    expect(outcome).toEqual({ status: 'nothing-to-revoke', reason: 'single-user' });
    expect(database.logins).toEqual([]);
  });

  it('generated has no revokePrevious', () => {
    expect(
      generatedStrategy({ passwords: async () => '', deploymentPolicy: {} }).revokePrevious,
    ).toBeUndefined();
  });
});

describe('unrecordedPassword', () => {
  it('is 256 random bits in characters no connection string or quoting treats specially', () => {
    const passwords = new Set(Array.from({ length: 200 }, () => unrecordedPassword()));

    expect(passwords.size).toBe(200);
    for (const password of passwords) {
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect([...password].some((character) => CONNECTION_STRING_UNSAFE.includes(character))).toBe(false);
    }
  });
});
