import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handOver, runToCompletion, spawnServer, startOnFreePort, unprivilegedUser } from './server-process';
import { generateTestCertificates } from './test-ca';

/** A database server on 127.0.0.1 owned by this process, with a superuser login and a CA to trust. */
export interface LocalDatabaseServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** A superuser (PostgreSQL) or an all-privileges user with GRANT OPTION (MariaDB). */
  readonly admin: { readonly username: string; readonly password: string };
  /** PEM of the CA that signed the server's certificate; generated at start. */
  readonly caPem: string;
  /** Milliseconds from the call to a server accepting connections (setup included). */
  readonly startMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL (Debian's binaries; scripts/databases/ensure.sh installs them and
 * exports ROTATOR_POSTGRES_BIN) in a temp dir: TCP on 127.0.0.1 only with a free port, no Unix
 * socket, scram-sha-256 for every login, TLS offered with a certificate from a CA made for this
 * start (plain TCP stays allowed, so a client that asks for TLS is the one that gets it). As root it
 * runs as `nobody`. Stopped by `stop()` or when this process exits; the dir is then removed.
 */
export async function startPostgres(binDir = process.env.ROTATOR_POSTGRES_BIN): Promise<LocalDatabaseServer> {
  if (!binDir) throw new Error('ROTATOR_POSTGRES_BIN is not set: run through scripts/lib/ensure-deps.sh');
  const started = performance.now();
  const runAs = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'rotator-postgres-'));
  const admin = { username: 'rotator_admin', password: randomBytes(18).toString('base64url') };
  const tls = join(dir, 'tls');
  mkdirSync(tls);
  const certificates = generateTestCertificates(tls);
  writeFileSync(join(dir, 'pwfile'), `${admin.password}\n`);
  handOver(dir, runAs);
  const data = join(dir, 'data');
  runToCompletion(
    join(binDir, 'initdb'),
    [
      '-D',
      data,
      '-U',
      admin.username,
      `--pwfile=${join(dir, 'pwfile')}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ],
    runAs,
  );
  rmSync(join(dir, 'pwfile'));
  writeFileSync(
    join(data, 'pg_hba.conf'),
    'hostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n',
  );
  const server = await startOnFreePort({
    name: 'PostgreSQL',
    dir,
    timeoutMs: 20_000,
    spawn: (port) =>
      spawnServer(
        join(binDir, 'postgres'),
        [
          ...[
            '-D',
            data,
            '-c',
            'listen_addresses=127.0.0.1',
            '-c',
            `port=${port}`,
            '-c',
            'unix_socket_directories=',
          ],
          ...[
            '-c',
            'ssl=on',
            '-c',
            `ssl_cert_file=${certificates.certFile}`,
            '-c',
            `ssl_key_file=${certificates.keyFile}`,
          ],
          ...['-c', 'password_encryption=scram-sha-256', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
          ...['-c', 'full_page_writes=off', '-c', 'max_connections=200', '-c', 'shared_buffers=32MB'],
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
