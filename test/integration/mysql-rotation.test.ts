import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import { startMariaDb } from '../../scripts/databases/mariadb-server';
import type { LocalDatabaseServer } from '../../scripts/databases/postgres-server';
import { DatabasePrivilegeError, MasterSecretError } from '../../shared/rotation/database/errors';
import { type DatabaseSecretValue, databaseRotationHarness, HOSTILE } from '../support/database-fixture';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

let server: LocalDatabaseServer;
let admin: mysql.Connection;
let harness: ReturnType<typeof databaseRotationHarness>;
let output: OutputCapture;
let serial = 0;

beforeAll(async () => {
  server = await startMariaDb();
  admin = await mysql.createConnection(options(server.admin.username, server.admin.password));
  await admin.query('CREATE DATABASE appdb');
  harness = databaseRotationHarness(server.caPem);
  harness.seenValues.add(server.admin.password);
  output = captureOutput();
}, 60_000);

afterAll(async () => {
  output?.stop();
  await admin?.end();
  await server?.stop();
  expect(findLeakedValues(output.text(), harness.seenValues)).toEqual([]);
});

function options(user: string, password: string): mysql.ConnectionOptions {
  return {
    host: server.host,
    port: server.port,
    user,
    password,
    ssl: { ca: server.caPem },
    charset: 'utf8mb4_general_ci',
  };
}

async function canLogin(user: string, password: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection(options(user, password));
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/** A user with a hostile name and password (MySQL 8's 32-character limit kept), and its secret value. */
async function createUser(tag: string, grants = 'SELECT, INSERT ON appdb.*'): Promise<DatabaseSecretValue> {
  serial += 1;
  const username = HOSTILE.user(`${tag}${serial}`);
  const password = HOSTILE.password(`${tag}${serial}`);
  harness.seenValues.add(password);
  await admin.query(mysql.format('CREATE USER ?@? IDENTIFIED BY ?', [username, '%', password]));
  if (grants) await admin.query(mysql.format(`GRANT ${grants} TO ?@?`, [username, '%']));
  return {
    engine: 'mariadb',
    host: server.host,
    port: server.port,
    username,
    password,
    dbname: 'appdb',
    ssl: true,
  };
}

async function secretFor(tag: string, value: DatabaseSecretValue, tags: Record<string, string> = {}) {
  return createSecret(harness.clients, harness.name(tag), JSON.stringify(value), tags);
}

async function grantsOf(user: string): Promise<string[]> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(mysql.format('SHOW GRANTS FOR ?@?', [user, '%']));
  return rows
    .map((row) => String(Object.values(row)[0]))
    .filter((line) => !line.startsWith('GRANT USAGE ON *.*'))
    .map((line) => line.replace(/ (TO|FOR) .*$/, ''))
    .sort();
}

describe('mysql-single-user against a real MariaDB (TLS)', () => {
  it('rotates a user whose name and password hold quotes, backslashes, $, ; and Unicode, repeating every step', async () => {
    // Prepare
    const initial = await createUser('single');
    const arn = await secretFor('my-single', initial, { 'rotator:strategy': 'mysql-single-user' });
    const token = await harness.begin(arn);

    // Act: every step twice
    const outcomes: string[] = [];
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      outcomes.push((await harness.step(step, arn, token)).outcome);
      outcomes.push((await harness.step(step, arn, token)).outcome);
    }

    // Assess
    expect(outcomes).toEqual([
      'pending-created',
      'pending-exists',
      'target-updated',
      'target-updated',
      'tested',
      'tested',
      'current-moved',
      'already-current',
    ]);
    const current = await harness.staged(arn, 'AWSCURRENT');
    expect(current.username).toBe(initial.username);
    expect(current.password).not.toMatch(/[ "'`\\/@:;?#%&=+,()[\]{}<>]/);
    expect(await canLogin(initial.username, current.password)).toBe(true);
    expect(await canLogin(initial.username, initial.password)).toBe(false);
  });
});

describe('mysql-alternating-users against a real MariaDB', () => {
  async function masterSecret(privileged = true, adminOf: readonly string[] = []): Promise<string> {
    const master = await createUser(privileged ? 'master' : 'weak', privileged ? '' : 'SELECT ON appdb.*');
    if (privileged) {
      await admin.query(
        mysql.format('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']),
      );
    }
    // Granting a role needs it WITH ADMIN OPTION (an RDS master gets it for the roles it creates).
    for (const role of adminOf) {
      await admin.query(mysql.format('GRANT ?? TO ?@? WITH ADMIN OPTION', [role, master.username, '%']));
    }
    return secretFor('my-master', master);
  }

  it('gives the clone the original’s grants and roles (its default role too), and both users reach tables created through either, across three rotations', async () => {
    // Prepare: the original has database and table grants, and a role (its default) that reads a
    // table the user itself has no grant on.
    serial += 1;
    const role = `reader_${serial}`;
    await admin.query(mysql.format('CREATE ROLE ??', [role]));
    await admin.query('CREATE TABLE IF NOT EXISTS appdb.role_only (id INT)');
    await admin.query('CREATE DATABASE IF NOT EXISTS roledb');
    await admin.query('CREATE TABLE IF NOT EXISTS roledb.facts (id INT)');
    await admin.query(mysql.format('GRANT SELECT ON roledb.* TO ??', [role]));
    const masterarn = await masterSecret(true, [role]);
    const base = await createUser('alt', 'SELECT, INSERT, CREATE, DROP ON appdb.*');
    await admin.query(mysql.format('GRANT SELECT ON mysql.db TO ?@?', [base.username, '%']));
    await admin.query(mysql.format('GRANT ?? TO ?@?', [role, base.username, '%']));
    await admin.query(mysql.format('SET DEFAULT ROLE ?? FOR ?@?', [role, base.username, '%']));
    const arn = await secretFor(
      'my-alt',
      { ...base, masterarn },
      { 'rotator:strategy': 'mysql-alternating-users' },
    );
    const expectedGrants = await grantsOf(base.username);

    const users: string[] = [];
    for (let round = 1; round <= 3; round++) {
      // Act
      await harness.rotateAgain(arn);
      const current = await harness.staged(arn, 'AWSCURRENT');
      const previous = await harness.staged(arn, 'AWSPREVIOUS');
      users.push(current.username);
      const connection = await mysql.createConnection({
        ...options(current.username, current.password),
        database: 'appdb',
      });
      await connection.query(`CREATE TABLE t${round} (id INT AUTO_INCREMENT PRIMARY KEY)`);
      await connection.query(`INSERT INTO t${round} () VALUES ()`);
      await connection.end();

      // Assess
      expect(await grantsOf(current.username)).toEqual(expectedGrants);
      expect(expectedGrants).toContain(`GRANT \`${role}\``);
      expect(expectedGrants).toContain(`SET DEFAULT ROLE \`${role}\``);
      const viaRole = await mysql.createConnection(options(current.username, current.password));
      const [facts] = await viaRole.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM roledb.facts');
      expect(facts[0]?.n).toBe(0);
      await viaRole.end();
      expect(await canLogin(previous.username, previous.password)).toBe(true);
      const reader = await mysql.createConnection({
        ...options(previous.username, previous.password),
        database: 'appdb',
      });
      for (let table = 1; table <= round; table++) {
        const [rows] = await reader.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM t${table}`);
        expect(rows[0]?.n).toBe(1);
      }
      await reader.end();
    }
    expect(users).toEqual([`${base.username}_clone`, base.username, `${base.username}_clone`]);
  });

  it.each([
    ['a master secret that does not exist', async () => `${harness.prefix}missing-master`, MasterSecretError],
    ['a master without the privileges to create users', () => masterSecret(false), DatabasePrivilegeError],
  ] as const)(
    'fails setSecret with a typed error and leaves no clone for %s',
    async (_case, master, expected) => {
      const base = await createUser('fault');
      const arn = await secretFor(
        'my-alt-fault',
        { ...base, masterarn: await master() },
        {
          'rotator:strategy': 'mysql-alternating-users',
        },
      );
      const token = await harness.begin(arn);
      await harness.step('createSecret', arn, token);
      await harness.staged(arn, 'AWSPENDING');

      const error = await harness.failingStep('setSecret', arn, token);

      expect(error).toBeInstanceOf(expected);
      const [clones] = await admin.query<mysql.RowDataPacket[]>(
        mysql.format('SELECT 1 FROM mysql.user WHERE User = ?', [`${base.username}_clone`]),
      );
      expect(clones).toHaveLength(0);
      harness.expectNoLeak(error);
    },
  );
});
