import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LocalDatabaseServer } from './postgres-server';
import { handOver, runToCompletion, spawnServer, startOnFreePort, unprivilegedUser } from './server-process';
import { generateTestCertificates } from './test-ca';

/**
 * Starts a throw-away MariaDB, the MySQL-protocol server of these tests (scripts/databases/ensure.sh
 * installs `mariadb-server-core` and exports ROTATOR_MARIADBD), in a temp dir: TCP on 127.0.0.1 only
 * with a free port, TLS offered with a certificate from a CA made for this start. The admin user
 * (`rotator_admin`@`%`, all privileges WITH GRANT OPTION) is created by an init file at start;
 * root can log in only through the server's socket in the temp dir. As root it runs as `nobody`.
 */
export async function startMariaDb(mariadbd = process.env.ROTATOR_MARIADBD): Promise<LocalDatabaseServer> {
  if (!mariadbd) throw new Error('ROTATOR_MARIADBD is not set: run through scripts/lib/ensure-deps.sh');
  const started = performance.now();
  const runAs = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'rotator-mariadb-'));
  const admin = { username: 'rotator_admin', password: randomBytes(18).toString('base64url') };
  const tls = join(dir, 'tls');
  mkdirSync(tls);
  const certificates = generateTestCertificates(tls);
  const data = join(dir, 'data');
  // The password is base64url (no quote or backslash), so it can sit in the SQL text as it is.
  writeFileSync(
    join(dir, 'init.sql'),
    `CREATE USER IF NOT EXISTS 'rotator_admin'@'%' IDENTIFIED BY '${admin.password}';\n` +
      `GRANT ALL PRIVILEGES ON *.* TO 'rotator_admin'@'%' WITH GRANT OPTION;\n`,
  );
  handOver(dir, runAs);
  const installDb = join(dirname(dirname(mariadbd)), 'bin', 'mariadb-install-db');
  runToCompletion(
    installDb,
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--skip-test-db',
      '--auth-root-authentication-method=socket',
      '--skip-name-resolve',
    ],
    runAs,
  );
  const server = await startOnFreePort({
    name: 'MariaDB',
    dir,
    timeoutMs: 30_000,
    spawn: (port) =>
      spawnServer(
        mariadbd,
        [
          ...['--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1'],
          ...[
            `--socket=${join(dir, 'mariadb.sock')}`,
            `--pid-file=${join(dir, 'mariadb.pid')}`,
            `--init-file=${join(dir, 'init.sql')}`,
          ],
          ...[
            `--ssl-ca=${certificates.caFile}`,
            `--ssl-cert=${certificates.certFile}`,
            `--ssl-key=${certificates.keyFile}`,
          ],
          ...[
            '--skip-name-resolve',
            '--innodb-buffer-pool-size=32M',
            '--innodb-log-file-size=16M',
            '--skip-log-bin',
          ],
          ...[
            '--innodb-flush-log-at-trx-commit=0',
            '--max-connections=200',
            '--character-set-server=utf8mb4',
          ],
        ],
        runAs,
      ),
  });
  return {
    host: '127.0.0.1',
    port: server.port,
    admin,
    caPem: certificates.caPem,
    startMs: performance.now() - started,
    stop: () => server.stop(),
  };
}
