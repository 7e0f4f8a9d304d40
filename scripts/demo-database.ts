/**
 * The demo's database chapter: a sample app's PostgreSQL credential rotated with alternating users
 * by the database rotation function, propagated through the cluster, and the previous user revoked
 * once every consumer runs the new one. Names, versions and login outcomes are printed; passwords
 * stay in this process and the functions.
 */
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { LocalOrchestrator } from '../harness/local-orchestrator';
import {
  type Credential,
  type Login,
  ORDERS_DATABASE,
  type OrdersDatabase,
} from '../harness/orders-database';
import { createSecret, readVersion, startRotation } from '../harness/rotation-fixture';
import { DATABASE_WORKLOAD, deployDatabaseApp } from '../harness/sample-app';
import type { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { versionWith } from '../shared/secrets/versions';

const SECRET = 'demo/app-team/orders-db';
/** Outside the managed prefix: the master is the DBA's, rotated (if at all) by someone else. */
const MASTER_SECRET = 'demo/dba/orders-db-master';
const { dbname: DBNAME, user: USER, master: MASTER } = ORDERS_DATABASE;

export interface DatabaseChapterContext {
  readonly local: LocalOrchestrator;
  readonly admin: KubeConfig;
  readonly engine: KubernetesAdapter;
  /** The RotationSucceeded event Secrets Manager emits through CloudTrail for `arn`. */
  readonly rotationSucceeded: (arn: string) => object;
  readonly say: (line?: string) => void;
}

/** What the chapter ends with, for the demo's outcome. */
export interface DatabaseChapterOutcome {
  readonly succeeded: boolean;
  readonly namespace: string;
  readonly secret: string;
  readonly currentVersion: string;
  /** The Kubernetes Secret's username and password are AWSCURRENT's (compared, not shown). */
  readonly inCluster: boolean;
  readonly previous: { readonly username: string; readonly login: Login };
}

/** Plays the chapter, printing each step; `database` was started in the background. */
export async function playDatabaseChapter(
  database: OrdersDatabase,
  context: DatabaseChapterContext,
): Promise<DatabaseChapterOutcome> {
  const functionArn = context.local.databaseFunctionArn;
  if (!functionArn) throw new Error('the local orchestrator runs without databaseRotation');
  const { arn, deployed } = await setUpDatabaseApp(database, context);
  const rotated = await rotateAsSecretsManager(database, context, arn, functionArn);
  return propagateAndRevoke(context, { arn, deployed, ...rotated });
}

/** The users, the master and its secret, the database secret, and the sample app reading it. */
async function setUpDatabaseApp(
  database: OrdersDatabase,
  { local, admin, engine, say }: DatabaseChapterContext,
) {
  const mark = performance.now();
  const { server } = database;
  const started = (server.startMs / 1000).toFixed(1);
  say(
    `      ${database.version} on ${server.host}:${server.port}, started beside the cluster in ${started} s`,
  );
  say(
    '      (scripts/databases: Debian’s package, unprivileged, scram-sha-256, TLS with a CA made at start)',
  );
  const { user, master } = await database.createUsers();
  say(`      database ${DBNAME} owned by ${USER}; master ${MASTER} (CREATEROLE, ADMIN OPTION on ${USER})`);
  const shape = { engine: 'postgres', host: server.host, port: server.port, dbname: DBNAME };
  const masterarn = await createSecret(local.clients, MASTER_SECRET, JSON.stringify({ ...shape, ...master }));
  const arn = await createSecret(local.clients, SECRET, JSON.stringify({ ...shape, ...user, masterarn }));
  say(`      ${MASTER_SECRET}: the master's credential (outside the managed prefix)`);
  say(`      ${SECRET}: engine, host, port, dbname, username, password, masterarn (AWS's shape)`);
  const deployed = await deployDatabaseApp(admin, engine, SECRET);
  say(`      sample app in namespace ${deployed.namespace}, consuming ${SECRET} through ESO:`);
  say(`      ${`${DATABASE_WORKLOAD.kind}/${DATABASE_WORKLOAD.name}`.padEnd(26)} ${DATABASE_WORKLOAD.how}`);
  say(`      ready (${seconds(mark)})`);
  return { arn, deployed };
}

/** Secrets Manager's part: RotateSecret names the database function, which runs the four steps. */
async function rotateAsSecretsManager(
  database: OrdersDatabase,
  { local, say }: DatabaseChapterContext,
  arn: string,
  functionArn: string,
) {
  const mark = performance.now();
  const versionId = await startRotation(local.clients, arn, functionArn);
  say(
    `      RotateSecret ${SECRET} (function rotate-database-secret) → version ${short(versionId)} (AWSPENDING)`,
  );
  await local.runRotationSteps(
    arn,
    versionId,
    (step, outcome) => say(`      Secrets Manager → rotate-database-secret ${step.padEnd(13)} ${outcome}`),
    functionArn,
  );
  const current = await stagedCredential(local, arn, 'AWSCURRENT');
  const previous = await stagedCredential(local, arn, 'AWSPREVIOUS');
  say(
    `      ✓ AWSCURRENT is version ${short(versionId)}: user ${current.username}; AWSPREVIOUS: user ${previous.username} (${seconds(mark)})`,
  );
  const logins = loginPrinter(database, say, [current, previous]);
  await logins.print(current);
  await logins.print(previous, ' (the pods still use it)');
  return { versionId, current, previous, logins };
}

/** The workflow, started by the rotation's event: resync, restart, verify, record, then revoke. */
async function propagateAndRevoke(
  { local, admin, rotationSucceeded, say }: DatabaseChapterContext,
  rotation: Awaited<ReturnType<typeof rotateAsSecretsManager>> & {
    readonly arn: string;
    readonly deployed: { readonly namespace: string; readonly secret: string };
  },
): Promise<DatabaseChapterOutcome> {
  const { arn, deployed, versionId, current, previous, logins } = rotation;
  const mark = performance.now();
  say('      RotationSucceeded → rule → starter → workflow');
  const { started, execution } = await local.deliver('EventsRotationSucceeded', rotationSucceeded(arn));
  if (started.ignored !== undefined)
    throw new Error(`the rotation's event started nothing: ${started.ignored}`);
  say(`      execution ${started.executionName}`);
  say(`      states: ${[...new Set(execution?.states ?? [])].join(' → ')}`);
  say(
    `      ${execution?.status === 'SUCCEEDED' ? '✓' : '✗'} ${execution?.status ?? 'not run'} (${seconds(mark)})`,
  );
  say(`      restarted and verified: ${(await restartedBy(local, versionId)).join(', ') || 'none'}`);
  const inCluster = await clusterHolds(admin, deployed, current);
  say(
    `      Secret ${deployed.namespace}/${deployed.secret}: user ${inCluster.username}, password ${inCluster.matches ? 'AWSCURRENT’s' : 'NOT AWSCURRENT’s'} (compared, not shown)`,
  );
  const output = execution?.output as { revoked?: { status?: string; username?: string } } | undefined;
  const revoked = output?.revoked;
  say(
    `      RevokePrevious, after Record said succeeded: ${revoked?.status ?? 'not run'} ${revoked?.username ?? ''}`,
  );
  await logins.print(current);
  const previousLogin = await logins.print(previous);
  const currentVersion = await currentVersionOf(local, arn);
  return {
    succeeded:
      execution?.status === 'SUCCEEDED' &&
      revoked?.status === 'revoked' &&
      !previousLogin.ok &&
      inCluster.matches &&
      currentVersion === versionId,
    ...deployed,
    currentVersion,
    inCluster: inCluster.matches,
    previous: { username: previous.username, login: previousLogin },
  };
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const short = (id: string) => `${id.slice(0, 8)}…`;

async function stagedCredential(local: LocalOrchestrator, arn: string, stage: string): Promise<Credential> {
  const value = await readVersion(local.clients, arn, undefined, stage);
  if (value === undefined) throw new Error(`${SECRET} has no ${stage} version`);
  const { username, password } = JSON.parse(value) as Credential;
  return { username, password };
}

async function currentVersionOf(local: LocalOrchestrator, arn: string): Promise<string> {
  const out = await local.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  return versionWith(out.VersionIdsToStages ?? {}, 'AWSCURRENT') ?? '';
}

/** Tries a credential's login and prints its outcome (who it runs as, or the SQLSTATE), names aligned. */
function loginPrinter(database: OrdersDatabase, say: (line: string) => void, all: readonly Credential[]) {
  const width = Math.max(...all.map((c) => c.username.length)) + 1;
  return {
    async print(credential: Credential, note = ''): Promise<Login> {
      const login = await database.login(credential);
      const outcome = login.ok
        ? `✓ reads table orders as ${login.runsAs}`
        : `✗ refused (SQLSTATE ${login.code}${login.code === '28P01' ? ': invalid password' : ''})`;
      say(`      login ${`${credential.username}:`.padEnd(width)} ${outcome}${note}`);
      return login;
    },
  };
}

/** The workloads the propagation of `versionId` restarted and verified, from the ledger. */
async function restartedBy(local: LocalOrchestrator, versionId: string): Promise<string[]> {
  const entries = await local.ledger.history(SECRET, { limit: 5 });
  const propagation = entries.find((e) => e.kind === 'propagation' && e.versionId === versionId);
  if (propagation?.kind !== 'propagation') return [];
  return (propagation.clusters ?? []).flatMap((c) => c.restarted.map((r) => `${r} (cluster ${c.cluster})`));
}

/** The username the Kubernetes Secret holds, and whether its password is AWSCURRENT's. */
async function clusterHolds(
  admin: KubeConfig,
  deployed: { readonly namespace: string; readonly secret: string },
  current: Credential,
) {
  const secret = await admin
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: deployed.secret, namespace: deployed.namespace });
  const field = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  return {
    username: field('username'),
    matches: field('username') === current.username && field('password') === current.password,
  };
}
