import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import { type LocalDatabaseServer, startPostgres } from '../../scripts/databases/postgres-server';
import { RotationPolicyError, RotationTestFailedError, SecretShapeError } from '../../shared/errors';
import {
  DatabaseConnectionError,
  DatabaseLoginError,
  DatabasePrivilegeError,
  MasterSecretError,
} from '../../shared/rotation/database/errors';
import { type DatabaseSecretValue, databaseRotationHarness, HOSTILE } from '../support/database-fixture';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

let server: LocalDatabaseServer;
let admin: pg.Client;
let harness: ReturnType<typeof databaseRotationHarness>;
let output: OutputCapture;
let serial = 0;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client(login(server.admin.username, server.admin.password));
  await admin.connect();
  harness = databaseRotationHarness(server.caPem);
  harness.seenValues.add(server.admin.password);
  output = captureOutput();
}, 60_000);

afterAll(async () => {
  output?.stop();
  await admin?.end();
  await server?.stop();
  // Everything the rotation logged (Powertools' failure lines included): no password of any test.
  expect(findLeakedValues(output.text(), harness.seenValues)).toEqual([]);
});

function login(user: string, password: string, database = 'postgres'): pg.ClientConfig {
  return { host: server.host, port: server.port, user, password, database, ssl: { ca: server.caPem } };
}

async function canLogin(user: string, password: string): Promise<boolean> {
  const client = new pg.Client(login(user, password));
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A login role with a hostile name and password, and the secret value that describes it. */
async function createUser(
  tag: string,
  extra: Partial<DatabaseSecretValue> = {},
): Promise<DatabaseSecretValue> {
  serial += 1;
  const username = HOSTILE.user(`${tag}${serial}`);
  const password = HOSTILE.password(`${tag}${serial}`);
  harness.seenValues.add(password);
  await admin.query(
    `CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
  );
  return {
    engine: 'postgres',
    host: server.host,
    port: server.port,
    username,
    password,
    dbname: 'postgres',
    ssl: true,
    ...extra,
  };
}

async function secretFor(
  tag: string,
  value: DatabaseSecretValue | string,
  tags: Record<string, string> = {},
) {
  return createSecret(
    harness.clients,
    harness.name(tag),
    typeof value === 'string' ? value : JSON.stringify(value),
    tags,
  );
}

const SINGLE = { 'rotator:strategy': 'postgres-single-user' };
const ALTERNATING = { 'rotator:strategy': 'postgres-alternating-users' };

describe('postgres-single-user against a real PostgreSQL (TLS, scram-sha-256)', () => {
  it('rotates a user whose name and password hold quotes, backslashes, $, ; and Unicode through all four steps', async () => {
    // Prepare
    const initial = await createUser('single');
    const arn = await secretFor('pg-single', initial, SINGLE);

    // Act
    const { outcomes } = await harness.rotate(arn);

    // Assess
    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    const current = await harness.staged(arn, 'AWSCURRENT');
    expect(current.username).toBe(initial.username);
    expect(current.password).not.toBe(initial.password);
    expect(current.password).toHaveLength(32);
    expect(current.password).not.toMatch(/[ "'`\\/@:;?#%&=+,()[\]{}<>]/);
    expect({ ...current, password: '' }).toEqual({ ...initial, password: '' });
    expect(await canLogin(initial.username, current.password)).toBe(true);
    expect(await canLogin(initial.username, initial.password)).toBe(false);
    expect((await harness.staged(arn, 'AWSPREVIOUS')).password).toBe(initial.password);
  });

  it('repeats every step without changing the outcome, and setSecret of a set password is a no-op', async () => {
    const initial = await createUser('repeat');
    const arn = await secretFor('pg-repeat', initial, SINGLE);
    const token = await harness.begin(arn);

    const created = [(await harness.step('createSecret', arn, token)).outcome];
    const pending = await harness.staged(arn, 'AWSPENDING');
    created.push((await harness.step('createSecret', arn, token)).outcome);
    await harness.step('setSecret', arn, token);
    // The second setSecret logs in with AWSPENDING and stops there: AWSCURRENT no longer works.
    await harness.step('setSecret', arn, token);
    await harness.step('testSecret', arn, token);
    await harness.step('testSecret', arn, token);
    const finished = [(await harness.step('finishSecret', arn, token)).outcome];
    finished.push((await harness.step('finishSecret', arn, token)).outcome);

    expect(created).toEqual(['pending-created', 'pending-exists']);
    expect((await harness.staged(arn, 'AWSPENDING')).password).toBe(pending.password);
    expect(finished).toEqual(['current-moved', 'already-current']);
    expect(await canLogin(initial.username, pending.password)).toBe(true);
  });

  it('sets the pending password through AWSPREVIOUS when only that one still logs in', async () => {
    const initial = await createUser('previous');
    const arn = await secretFor('pg-previous', initial, SINGLE);
    await harness.rotateAgain(arn);
    // The database went back to the AWSPREVIOUS password (a restore); AWSCURRENT no longer logs in.
    await admin.query(
      `ALTER ROLE ${pg.escapeIdentifier(initial.username)} PASSWORD ${pg.escapeLiteral(initial.password)}`,
    );

    const { outcomes } = await harness.rotateAgain(arn);

    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    expect(await canLogin(initial.username, (await harness.staged(arn, 'AWSCURRENT')).password)).toBe(true);
  });

  it('rotates an untagged secret as PostgreSQL because of its engine field', async () => {
    const initial = await createUser('untagged');
    const arn = await secretFor('pg-untagged', initial);

    await harness.rotate(arn);

    expect(await canLogin(initial.username, (await harness.staged(arn, 'AWSCURRENT')).password)).toBe(true);
  });
});

describe('postgres-alternating-users against a real PostgreSQL', () => {
  /** A master as RDS gives one: CREATEROLE, not superuser. */
  async function masterSecret(privileged = true): Promise<string> {
    const master = await createUser(privileged ? 'master' : 'weak');
    if (privileged) await admin.query(`ALTER ROLE ${pg.escapeIdentifier(master.username)} CREATEROLE`);
    return secretFor('pg-master', master);
  }

  async function ownership(user: string, password: string) {
    const client = new pg.Client(login(user, password));
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; owner: string; readers: boolean }>(
        `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
                has_table_privilege('app_readers', c.oid, 'SELECT') AS readers
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'app' ORDER BY c.relname`,
      );
      return rows;
    } finally {
      await client.end();
    }
  }

  it('keeps one owner and the grants of tables and sequences created through each user across three rotations', async () => {
    // Prepare: the original owns a schema, is in a group role, and has default privileges there.
    const base = await createUser('alt');
    const q = pg.escapeIdentifier(base.username);
    await admin.query('CREATE ROLE app_readers NOLOGIN');
    await admin.query(`GRANT app_readers TO ${q}`);
    await admin.query(`CREATE SCHEMA app AUTHORIZATION ${q}`);
    await admin.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${q} IN SCHEMA app GRANT SELECT ON TABLES TO app_readers`,
    );
    const arn = await secretFor('pg-alt', { ...base, masterarn: await masterSecret() }, ALTERNATING);

    const users: string[] = [];
    for (let round = 1; round <= 3; round++) {
      // Act
      await harness.rotateAgain(arn);
      const current = await harness.staged(arn, 'AWSCURRENT');
      const previous = await harness.staged(arn, 'AWSPREVIOUS');
      users.push(current.username);
      const client = new pg.Client(login(current.username, current.password));
      await client.connect();
      await client.query(`CREATE TABLE app.t${round} (id serial PRIMARY KEY)`);
      await client.query(`CREATE SEQUENCE app.s${round}`);
      const member = await client.query<{ member: boolean }>(
        "SELECT pg_has_role(session_user, 'app_readers', 'USAGE') AS member",
      );
      await client.end();

      // Assess
      expect(member.rows[0]?.member).toBe(true);
      expect(await canLogin(previous.username, previous.password)).toBe(true);
      const objects = await ownership(current.username, current.password);
      expect(objects).toHaveLength(round * 4); // table, its sequence, its index, a sequence
      for (const object of objects) expect(object.owner).toBe(base.username);
      for (const table of objects.filter((o) => /^t\d$/.test(o.name))) expect(table.readers).toBe(true);
    }
    expect(users).toEqual([`${base.username}_clone`, base.username, `${base.username}_clone`]);
  });

  it('refuses a secret without masterarn at createSecret, before anything is written', async () => {
    const arn = await secretFor('pg-no-master', await createUser('nomaster'), ALTERNATING);
    const token = await harness.begin(arn);

    const error = await harness.failingStep('createSecret', arn, token);

    expect(error).toBeInstanceOf(MasterSecretError);
    expect(
      await harness.deps.secrets.findSecretString(arn, { versionId: token, versionStage: 'AWSPENDING' }),
    ).toBeUndefined();
    harness.expectNoLeak(error);
  });

  it.each([
    ['a master secret that does not exist', async () => `${harness.prefix}missing-master`, MasterSecretError],
    [
      'a master secret that is not JSON',
      async () => secretFor('pg-bad-master', 'not-json-master-0001'),
      MasterSecretError,
    ],
    ['a master without CREATEROLE', () => masterSecret(false), DatabasePrivilegeError],
  ] as const)(
    'fails setSecret with a typed error and creates no clone for %s',
    async (_case, master, expected) => {
      const base = await createUser('fault');
      const arn = await secretFor('pg-alt-fault', { ...base, masterarn: await master() }, ALTERNATING);
      const token = await harness.begin(arn);
      await harness.step('createSecret', arn, token);
      await harness.staged(arn, 'AWSPENDING');

      const error = await harness.failingStep('setSecret', arn, token);

      expect(error).toBeInstanceOf(expected);
      const clone = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
        `${base.username}_clone`,
      ]);
      expect(clone.rowCount).toBe(0);
      harness.expectNoLeak(error);
    },
  );
});

describe('database rotation faults give a typed error and change nothing', () => {
  it.each([
    [
      'an unknown engine',
      { 'rotator:strategy': 'database' },
      '{"engine":"oracle","host":"h","username":"u","password":"oracle-pw-0001"}',
      RotationPolicyError,
    ],
    ['a value that is not JSON', SINGLE, 'plain-string-password-0001', SecretShapeError],
    [
      'a JSON value without host',
      SINGLE,
      '{"engine":"postgres","username":"u","password":"no-host-pw-0001"}',
      SecretShapeError,
    ],
    [
      'a MySQL value under a PostgreSQL strategy',
      SINGLE,
      '{"engine":"mysql","host":"h","username":"u","password":"wrong-engine-0001"}',
      SecretShapeError,
    ],
  ] as const)('createSecret refuses %s', async (_case, tags, value, expected) => {
    const arn = await secretFor('pg-shape', value, tags);
    harness.seenValues.add(value.match(/[a-z-]+-0001/)?.[0] ?? value);
    const token = await harness.begin(arn);

    const error = await harness.failingStep('createSecret', arn, token);

    expect(error).toBeInstanceOf(expected);
    expect(
      await harness.deps.secrets.findSecretString(arn, { versionId: token, versionStage: 'AWSPENDING' }),
    ).toBeUndefined();
    harness.expectNoLeak(error);
  });

  async function failSetSecret(value: DatabaseSecretValue) {
    const arn = await secretFor('pg-fault', value, SINGLE);
    const token = await harness.begin(arn);
    await harness.step('createSecret', arn, token);
    await harness.staged(arn, 'AWSPENDING');
    return { arn, token, error: await harness.failingStep('setSecret', arn, token) };
  }

  it('a user that does not exist: setSecret is a DatabaseLoginError, testSecret fails, nothing moves', async () => {
    serial += 1;
    const value = { ...(await createUser('ghost')), username: `no such user ${serial}` };

    const { arn, token, error } = await failSetSecret(value);
    const tested = await harness.failingStep('testSecret', arn, token);

    expect(error).toBeInstanceOf(DatabaseLoginError);
    expect(tested).toBeInstanceOf(RotationTestFailedError);
    expect((await harness.staged(arn, 'AWSCURRENT')).password).toBe(value.password);
    harness.expectNoLeak(error);
    harness.expectNoLeak(tested);
  });

  it('a database that is down: DatabaseConnectionError (unreachable)', async () => {
    const closed = await closedPort();
    const { error } = await failSetSecret({ ...(await createUser('down')), port: closed });

    expect(error).toBeInstanceOf(DatabaseConnectionError);
    expect((error as DatabaseConnectionError).failure).toBe('unreachable');
    harness.expectNoLeak(error);
  });

  it('a server that refuses TLS: DatabaseConnectionError (tls-refused), the password never sent', async () => {
    const noTls = await serverWithoutTls();
    const value = { ...(await createUser('notls')), port: noTls.port };

    const { error } = await failSetSecret(value);
    noTls.server.close();

    expect(error).toBeInstanceOf(DatabaseConnectionError);
    expect((error as DatabaseConnectionError).failure).toBe('tls-refused');
    expect(noTls.received().includes(value.password)).toBe(false);
    harness.expectNoLeak(error);
  });

  it('a certificate the deployment does not trust: DatabaseConnectionError (tls-untrusted), password unchanged', async () => {
    const value = await createUser('untrusted');
    const untrusting = databaseRotationHarness('');
    const arn = await createSecret(
      untrusting.clients,
      untrusting.name('pg-untrusted'),
      JSON.stringify(value),
      SINGLE,
    );
    const token = await untrusting.begin(arn);
    await untrusting.step('createSecret', arn, token);

    const error = await untrusting.failingStep('setSecret', arn, token);

    expect(error).toBeInstanceOf(DatabaseConnectionError);
    expect((error as DatabaseConnectionError).failure).toBe('tls-untrusted');
    expect(await canLogin(value.username, value.password)).toBe(true);
    untrusting.expectNoLeak(error, [value.password]);
  });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

/** Answers PostgreSQL's SSLRequest with 'N', as a server without TLS does, and records what it got. */
async function serverWithoutTls(): Promise<{ server: Server; port: number; received: () => string }> {
  let received = '';
  const server = createServer((socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      socket.write('N');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : 0,
    received: () => received,
  };
}
