/**
 * Benchmark: the database rotation function's four steps (rotateSecretStep with databaseStrategies,
 * as functions/rotate-database-secret wires them) against a local PostgreSQL and MariaDB (TLS,
 * started by scripts/databases) with Secrets Manager in moto, for each of the four strategies.
 * Prints per strategy and step the median and p95 over N rotations (default 100; one warm-up
 * rotation first, not counted), the time inside Secrets Manager (moto) calls, the load average,
 * Node's and the servers' versions. Bundle size and cold import: `npm run bench`.
 * Figures only; nothing is asserted. Run: npm run bench:database [-- --rotations N]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { type LocalClients, localClients } from '../harness/local-aws';
import { ensureLocalDependencies } from '../harness/local-dependencies';
import { motoTraceback } from '../harness/moto-call-error';
import { startMoto } from '../harness/moto-server';
import { createSecret, ensurePlaceholderRotationFunction, startRotation } from '../harness/rotation-fixture';
import { startMariaDb } from '../scripts/databases/mariadb-server';
import { type LocalDatabaseServer, startPostgres } from '../scripts/databases/postgres-server';
import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import type { RotationConfig } from '../shared/config';
import { sanitizeUpstreamMessage } from '../shared/errors';
import { createLogger, createMetrics } from '../shared/observability';
import { databaseStrategies } from '../shared/rotation/default-strategies';
import { type RotationDeps, rotateSecretStep } from '../shared/rotation/rotate-secret-step';
import { ROTATION_STEPS } from '../shared/rotation/rotation-event';

const { values: args } = parseArgs({ options: { rotations: { type: 'string', default: '100' } } });
const ROTATIONS = Number(args.rotations);
if (!Number.isInteger(ROTATIONS) || ROTATIONS < 1) throw new Error('--rotations takes a whole number ≥ 1');
const PREFIX = 'bench-db/';
const EXPECTED = ['pending-created', 'target-updated', 'tested', 'current-moved'];
const STRATEGIES = [
  // Users short enough for MySQL's 32 characters with `_clone`.
  ['postgres-single-user', 'postgres', 'bench_pg_single'],
  ['postgres-alternating-users', 'postgres', 'bench_pg_alt'],
  ['mysql-single-user', 'mariadb', 'bench_my_single'],
  ['mysql-alternating-users', 'mariadb', 'bench_my_alt'],
] as const;
type Engine = (typeof STRATEGIES)[number][1];
type Timings = Record<string, number[]>;

const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

/** A set-up call failed: names the call; the driver's or SDK's message sanitized. */
class BenchSetUpError extends Error {
  override readonly name = 'BenchSetUpError';
  constructor(what: string, cause: unknown) {
    super(`set-up failed at ${what}: ${describe(cause)}`, { cause });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${sanitizeUpstreamMessage(error.message)}` : String(error);
}

async function setUp<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new BenchSetUpError(what, error);
  }
}

/** Admin connections: server version and the users a strategy rotates. */
interface EngineAdmin {
  readonly engine: Engine;
  readonly server: LocalDatabaseServer;
  readonly dbname: string;
  readonly version: string;
  createUser(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

async function postgresAdmin(server: LocalDatabaseServer): Promise<EngineAdmin> {
  const client = new pg.Client({
    ...{ host: server.host, port: server.port, database: 'postgres' },
    ...{ user: server.admin.username, password: server.admin.password, ssl: { ca: server.caPem } },
  });
  await setUp('PostgreSQL admin login', () => client.connect());
  const version = await setUp('PostgreSQL SHOW server_version', () => client.query('SHOW server_version'));
  return {
    engine: 'postgres',
    server,
    dbname: 'postgres',
    version: `PostgreSQL ${version.rows[0]?.server_version}`,
    createUser: (username, password) =>
      setUp(`PostgreSQL CREATE ROLE ${username}`, () =>
        client.query(
          `CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
        ),
      ).then(() => undefined),
    close: () => client.end(),
  };
}

async function mariaDbAdmin(server: LocalDatabaseServer): Promise<EngineAdmin> {
  const connection = await setUp('MariaDB admin login', () =>
    mysql.createConnection({
      ...{ host: server.host, port: server.port, user: server.admin.username },
      ...{ password: server.admin.password, ssl: { ca: server.caPem }, charset: 'utf8mb4_general_ci' },
    }),
  );
  const query = (what: string, sql: string) => setUp(`MariaDB ${what}`, () => connection.query(sql));
  const [rows] = (await query('SELECT VERSION()', 'SELECT VERSION() AS v')) as [{ v: string }[], unknown];
  await query('CREATE DATABASE benchdb', 'CREATE DATABASE benchdb');
  return {
    engine: 'mariadb',
    server,
    dbname: 'benchdb',
    version: `MariaDB ${rows[0]?.v}`,
    async createUser(username, password) {
      await query(
        `CREATE USER ${username}`,
        mysql.format('CREATE USER ?@? IDENTIFIED BY ?', [username, '%', password]),
      );
      const grant = mysql.format('GRANT SELECT, INSERT, UPDATE, DELETE ON benchdb.* TO ?@?', [username, '%']);
      await query(`GRANT … TO ${username}`, grant);
    },
    close: () => connection.end(),
  };
}

/** Milliseconds spent in Secrets Manager (moto) calls since the last `take()`. */
function timeSecretsManagerCalls(clients: LocalClients) {
  let spent = 0;
  clients.secretsManager.middlewareStack.add(
    (next) => async (input) => {
      const started = performance.now();
      try {
        return await next(input);
      } finally {
        spent += performance.now() - started;
      }
    },
    { step: 'initialize', name: 'timeSecretsManagerCalls' },
  );
  return {
    take() {
      const taken = spent;
      spent = 0;
      return taken;
    },
  };
}

/** One secret per strategy, its user created by the admin; alternating users name the admin's secret as master. */
async function secretFor(strategy: string, username: string, target: EngineAdmin, clients: LocalClients) {
  const { engine, server } = target;
  const base = { engine, host: server.host, port: server.port, dbname: target.dbname, ssl: true };
  const password = randomBytes(18).toString('base64url');
  await target.createUser(username, password);
  let masterarn: string | undefined;
  if (strategy.endsWith('alternating-users')) {
    const master = JSON.stringify({ ...base, ...server.admin });
    const name = `${PREFIX}${engine}-master`;
    masterarn = await setUp(`CreateSecret ${name}`, () => createSecret(clients, name, master));
  }
  const value = JSON.stringify({ ...base, username, password, ...(masterarn ? { masterarn } : {}) });
  const name = `${PREFIX}${strategy}`;
  return setUp(`CreateSecret ${name}`, () =>
    createSecret(clients, name, value, { 'rotator:strategy': strategy }),
  );
}

/** Runs `rotations` + 1 rotations (the first not counted) and returns each step's times. */
async function rotate(strategy: string, arn: string, context: BenchContext, rotations: number) {
  const { deps, secrets, clients, placeholder, moto, metrics } = context;
  const times: Timings = {};
  const inMoto: Timings = {};
  let warmUpMs = 0;
  for (let round = 0; round <= rotations; round++) {
    // AWSPENDING off the finished version first, as Secrets Manager does (moto refuses RotateSecret).
    const described = await setUp(`DescribeSecret ${strategy}`, () => secrets.describeSecret(arn));
    for (const [versionId, stages] of Object.entries(described.versionIdsToStages)) {
      if (stages.includes('AWSPENDING') && stages.includes('AWSCURRENT')) {
        await setUp(`UpdateSecretVersionStage ${strategy}`, () =>
          secrets.removeStage(arn, 'AWSPENDING', versionId),
        );
      }
    }
    const token = await setUp(`RotateSecret ${strategy}`, () => startRotation(clients, arn, placeholder));
    const record = (key: string, ms: number, into: Timings) => {
      if (round > 0) into[key] = [...(into[key] ?? []), ms];
    };
    const rotationStarted = performance.now();
    moto.take();
    for (const [index, Step] of ROTATION_STEPS.entries()) {
      const started = performance.now();
      const result = await rotateSecretStep({ Step, SecretId: arn, ClientRequestToken: token }, deps).catch(
        (error: unknown) => {
          throw new Error(
            `${strategy}, ${round ? `rotation ${round} of ${rotations}` : 'warm-up rotation'}: ${Step} failed: ${describe(error)}`,
            {
              cause: error,
            },
          );
        },
      );
      record(Step, performance.now() - started, times);
      record(Step, moto.take(), inMoto);
      metrics.clearMetrics();
      metrics.clearDimensions();
      if (result.outcome !== EXPECTED[index]) {
        throw new Error(
          `${strategy}, rotation ${round}: ${Step} answered ${result.outcome}, not ${EXPECTED[index]}`,
        );
      }
    }
    if (round === 0) warmUpMs = performance.now() - rotationStarted;
    record('rotation', performance.now() - rotationStarted, times);
  }
  return { times, inMoto, warmUpMs };
}

interface BenchContext {
  readonly deps: RotationDeps;
  readonly secrets: SecretsManagerAdapter;
  readonly clients: LocalClients;
  readonly placeholder: string;
  readonly moto: ReturnType<typeof timeSecretsManagerCalls>;
  readonly metrics: ReturnType<typeof createMetrics>;
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
const median = (values: readonly number[]) => {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
/** Nearest-rank p95. */
const p95 = (values: readonly number[]) => sorted(values)[Math.ceil(values.length * 0.95) - 1] ?? 0;
const cell = (values: readonly number[] = []) => `${median(values).toFixed(1)} / ${p95(values).toFixed(1)}`;

ensureLocalDependencies(['MOTO_PYTHON', 'ROTATOR_POSTGRES_BIN', 'ROTATOR_MARIADBD'], log);
const loadAtStart = load();
const moto = await startMoto();
const stops: (() => Promise<void>)[] = [() => moto.stop()];
try {
  const postgres = await startPostgres();
  stops.push(() => postgres.stop());
  const mariadb = await startMariaDb();
  stops.push(() => mariadb.stop());
  const admins = { postgres: await postgresAdmin(postgres), mariadb: await mariaDbAdmin(mariadb) };
  stops.push(
    () => admins.postgres.close(),
    () => admins.mariadb.close(),
  );

  const clients = localClients(moto.endpoint);
  const secrets = new SecretsManagerAdapter(clients.secretsManager);
  const config: RotationConfig = { managedPrefixes: [PREFIX], defaultPasswordPolicy: {} };
  const logger = createLogger();
  logger.setLogLevel('ERROR'); // the function's "rotation step done" lines would bury the figures
  const metrics = createMetrics();
  const strategies = databaseStrategies(secrets, config, { ca: `${postgres.caPem}\n${mariadb.caPem}` });
  const context: BenchContext = {
    deps: { config, secrets, strategies, logger, metrics },
    secrets,
    clients,
    placeholder: await setUp('CreateFunction (placeholder)', () =>
      ensurePlaceholderRotationFunction(clients),
    ),
    moto: timeSecretsManagerCalls(clients),
    metrics,
  };
  log(`Node ${process.version}; ${admins.postgres.version}; ${admins.mariadb.version}; both over TLS`);
  log(
    `servers started in ${postgres.startMs.toFixed(0)} ms (PostgreSQL), ${mariadb.startMs.toFixed(0)} ms (MariaDB)`,
  );
  log(`load average (1, 5, 15 min) before: ${loadAtStart}`);
  log(
    `${ROTATIONS} rotations per strategy after one warm-up rotation; median / p95 in ms, Secrets Manager in moto`,
  );

  const rows: string[] = [];
  const motoRows: string[] = [];
  for (const [strategy, engine, username] of STRATEGIES) {
    const arn = await secretFor(strategy, username, admins[engine], clients);
    const loadBefore = load();
    const { times, inMoto, warmUpMs } = await rotate(strategy, arn, context, ROTATIONS);
    log(
      `  ${strategy}: warm-up rotation ${warmUpMs.toFixed(0)} ms; load ${loadBefore} before, ${load()} after`,
    );
    rows.push(`| ${strategy} | ${[...ROTATION_STEPS, 'rotation'].map((s) => cell(times[s])).join(' | ')} |`);
    motoRows.push(`| ${strategy} | ${ROTATION_STEPS.map((s) => cell(inMoto[s])).join(' | ')} |`);
  }
  const header = `| strategy | ${ROTATION_STEPS.join(' | ')}`;
  log(
    `\nper step, median / p95 (ms)\n${header} | whole rotation |\n|---|---|---|---|---|---|\n${rows.join('\n')}`,
  );
  log(`\nof which in Secrets Manager calls to moto, median / p95 (ms)\n${header} |\n|---|---|---|---|---|`);
  log(motoRows.join('\n'));
  log(`\nload average (1, 5, 15 min) after: ${load()}`);
  log(
    'bundle size and cold import of the database rotation function: `npm run bench` (rotate-database-secret)',
  );
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  for (const stop of stops.reverse())
    await stop().catch((error: unknown) => log(`stop failed: ${describe(error)}`));
}
