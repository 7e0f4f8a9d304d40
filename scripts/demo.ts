/**
 * The whole story locally, on the embedded default: the scheduled sweep finds an overdue secret and
 * rotates it; the rotation's EventBridge event starts the propagation workflow, which carries the
 * new version through a real cluster with the real ESO to the pods; a scheduled rotation gets stuck
 * and an operator's emergency rotation (with a reason) repairs it and rotates again; then a sample
 * app's PostgreSQL credential is rotated with alternating users by the database rotation function,
 * propagated, and the previous user revoked (scripts/demo-database.ts); a final status table and
 * history. Every function runs as its bundled artifact; versions, names and timings are printed,
 * values never are.
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import type { AfterRequested } from '../cli/after-requested';
import { runCli } from '../cli/main';
import { localAwsEnvironment } from '../harness/local-aws';
import { buildClusterBinaries, type LocalCluster, startCluster } from '../harness/local-cluster';
import { readLocalEks } from '../harness/local-eks';
import { type LocalOrchestrator, startLocalOrchestrator } from '../harness/local-orchestrator';
import { startMoto, useAwsRotationSemantics } from '../harness/moto-server';
import { caFolder, type OrdersDatabase, startOrdersDatabase } from '../harness/orders-database';
import { createSecret, readVersion } from '../harness/rotation-fixture';
import { deploySampleApp, SAMPLE_WORKLOADS } from '../harness/sample-app';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { versionWith } from '../shared/secrets/versions';
import { playDatabaseChapter } from './demo-database';

const PREFIX = 'demo/app-team/';
const SECRET = `${PREFIX}payments-api`;
const RBAC = fileURLToPath(new URL('../infra/kubernetes/rbac.yaml', import.meta.url));
/** What that identity may change (a ValidatingAdmissionPolicy), applied with it as in a real cluster. */
const ADMISSION_POLICY = fileURLToPath(new URL('../infra/kubernetes/admission-policy.yaml', import.meta.url));

const program = new Command('demo')
  .description(
    'Run the whole orchestrator locally: moto for AWS, a local Kubernetes control plane with the real External\n' +
      'Secrets Operator, and the synthesized stack’s own bundles and state machine. Values are never printed.',
  )
  .option('--verbose', 'also print the functions’ structured logs and the cluster scripts’ output', false)
  .option(
    '--concurrency <n>',
    'workloads restarted at once (the workflow’s Map MaxConcurrency)',
    (v) => Number.parseInt(v, 10),
    2,
  )
  .parse();
const { verbose, concurrency } = program.opts<{ verbose: boolean; concurrency: number }>();

const say = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const started = performance.now();
const short = (id: string | undefined) => (id ? `${id.slice(0, 8)}…` : '-');

say('Secret rotation orchestrator: the whole story, locally (rotate → resync → restart → verify → record)\n');
let mark = performance.now();
const moto = await startMoto();
say(`[1/8] local AWS (moto) on ${moto.endpoint} (${seconds(mark)})`);
// The cluster's binaries build in the background (a first run compiles them from Go modules);
// everything up to the propagation needs no cluster and runs meanwhile.
let building = true;
const build = buildClusterBinaries((line) => {
  if (verbose || /progress|built|failed|last cold builds|building/.test(line)) say(`      ${line}`);
}).finally(() => {
  building = false;
});
build.catch(() => undefined);
let cluster: LocalCluster | undefined;
let orchestrator: LocalOrchestrator | undefined;
let database: Promise<OrdersDatabase> | undefined;
const ca = caFolder();
try {
  mark = performance.now();
  const eksName = process.env.ROTATOR_EKS_CLUSTER_NAME ?? 'local';
  orchestrator = await startLocalOrchestrator({
    motoEndpoint: moto.endpoint,
    eksName,
    managedPrefixes: [PREFIX],
    restartConcurrency: concurrency,
    onFunctionLog: (line) => verbose && say(`      ${line}`),
    // As cdk.json's sample: TLS to the database unless a secret says otherwise, trusting the local CA.
    databaseRotation: { tlsByDefault: true, env: { NODE_EXTRA_CA_CERTS: ca.caFile } },
  });
  const local = orchestrator;
  say(`[2/8] the orchestrator, synthesized and bundled as \`cdk deploy\` would (${seconds(mark)})`);
  say(
    '      functions: rotate-secret, rotate-database-secret, sweep, propagate-secret (starter), propagation-step,',
  );
  say('      each in its own Node 24 process (rotate-database-secret from its first use)');
  say(
    `      ledger table ${local.tableName}; state machine ${local.stateMachineArn.split(':').at(-1)} (definition from the template)`,
  );

  mark = performance.now();
  const initial = JSON.stringify({ username: 'shop', password: `initial-${Date.now()}` });
  await createSecret(local.clients, SECRET, initial, { 'rotator:fields': 'password' });
  await local.clients.secretsManager.send(
    new RotateSecretCommand({
      SecretId: SECRET,
      RotationLambdaARN: local.rotationFunctionArn,
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: false,
    }),
  );
  // moto cannot backdate; the local launcher moves this secret's dates 33 days into the past.
  await useAwsRotationSemantics(moto.endpoint, { [SECRET]: 33 });
  say(
    `[3/8] ${SECRET}: rotated every 30 days, created 33 days ago and never rotated since (${seconds(mark)})`,
  );

  mark = performance.now();
  say('[4/8] the scheduled sweep (EventBridge Scheduler invokes the sweep function)');
  const sweep = (await local.runSweep()) as {
    listed: number;
    overdue: number;
    rotationsStarted: { secret: string; versionId?: string }[];
  };
  say(`      listed ${sweep.listed} managed secret(s); overdue ${sweep.overdue}`);
  const scheduled = sweep.rotationsStarted.find((r) => r.secret === SECRET);
  if (!scheduled?.versionId) throw new Error('the sweep did not start the overdue rotation');
  say(`      RotateSecret ${SECRET} → version ${short(scheduled.versionId)} (AWSPENDING)`);
  const arn = await secretArn(local);
  await local.runRotationSteps(arn, scheduled.versionId, (step, outcome) =>
    say(`      Secrets Manager → rotate-secret ${step.padEnd(13)} ${outcome}`),
  );
  say(`      ✓ AWSCURRENT is version ${short(scheduled.versionId)} (${seconds(mark)})`);
  say('      its RotationSucceeded event is delivered once the cluster is up');

  mark = performance.now();
  say('[5/8] local cluster: etcd, kube-apiserver, controller-manager, scheduler, kwok nodes, ESO');
  if (building) say('      waiting for the cluster build (progress every 30 s)');
  await build;
  // PostgreSQL for [8/8] starts meanwhile (scripts/databases; its initdb blocks this process ~1 s).
  database = startOrdersDatabase(ca.caFile);
  database.catch(() => undefined);
  cluster = await startCluster({
    awsEndpoint: moto.endpoint,
    onLog: (line) => {
      if (verbose || /ready in/.test(line)) say(`      ${line}`);
    },
  });
  execFileSync(
    cluster.kubectl,
    ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', RBAC, '-f', ADMISSION_POLICY],
    {
      stdio: 'ignore',
    },
  );
  const eks = readLocalEks(cluster.stateDir);
  if (eks.name !== eksName) throw new Error(`the cluster came up as EKS "${eks.name}", not "${eksName}"`);
  await local.attachCluster(cluster);
  say(
    `      ✓ ready (${seconds(mark)}); EKS cluster "${eks.name}": DescribeCluster and EKS tokens work as in AWS`,
  );
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const engineConfig = new KubeConfig();
  engineConfig.loadFromFile(cluster.rotatorKubeconfig);
  const engine = new KubernetesAdapter(engineConfig);
  const { namespace } = await deploySampleApp(admin, engine, SECRET);
  say(`      sample app in namespace ${namespace}, consuming ${SECRET} through ESO:`);
  for (const w of SAMPLE_WORKLOADS) say(`      ${`${w.kind}/${w.name}`.padEnd(26)} ${w.how}`);

  mark = performance.now();
  say('[6/8] EventBridge: "AWS Service Event via CloudTrail" RotationSucceeded → rule → starter → workflow');
  const states: string[] = [];
  const { started: first, execution } = await local.deliver(
    'EventsRotationSucceeded',
    rotationSucceeded(arn),
  );
  if (first.ignored !== undefined) throw new Error(`the rotation's event started nothing: ${first.ignored}`);
  say(`      execution ${first.executionName} (trigger ${first.input.trigger})`);
  if (execution) {
    for (const state of execution.states) if (!states.includes(state)) states.push(state);
    say(`      states: ${states.join(' → ')}`);
    say(`      ${execution.status === 'SUCCEEDED' ? '✓' : '✗'} ${execution.status} (${seconds(mark)})`);
  }
  const again = await local.deliver('EventsRotationSucceeded', rotationSucceeded(arn));
  say(
    `      the same event again: ${again.started.alreadyStarted ? 'execution name taken, not started' : `ended in ${again.execution?.states.at(-1)}`}`,
  );

  mark = performance.now();
  say('[7/8] a scheduled rotation gets stuck; the on-call engineer rotates in an emergency');
  const stuck = await local.clients.secretsManager.send(new RotateSecretCommand({ SecretId: SECRET }));
  say(
    `      RotateSecret → version ${short(stuck.VersionId)} AWSPENDING, and its function never runs (stuck)`,
  );
  say(
    `      $ npx rotator emergency ${SECRET} --reason "password pasted in a public channel" --retire-previous`,
  );
  Object.assign(process.env, localAwsEnvironment(moto.endpoint));
  const cliEnv = { ...process.env, ROTATOR_LEDGER_TABLE: local.tableName, ROTATOR_MANAGED_PREFIXES: PREFIX };
  const cliArgs = ['--endpoint-url', moto.endpoint];
  const emergencyCode = await runCli(
    [...cliArgs, 'emergency', SECRET, '--reason', 'password pasted in a public channel', '--retire-previous'],
    { io: process, env: cliEnv, afterRequested: playRotationLocally(local, arn) },
  );
  say(`      (exit ${emergencyCode}, ${seconds(mark)})`);

  mark = performance.now();
  say('[8/8] a database credential: PostgreSQL, alternating users, the previous user revoked after the move');
  const databaseOutcome = await playDatabaseChapter(await database, {
    local,
    admin,
    engine,
    rotationSucceeded,
    say,
  });
  say(`      (${seconds(mark)})`);
  say('');
  say('$ npx rotator status');
  const statusCode = await runCli([...cliArgs, 'status'], { io: process, env: cliEnv });
  say('');
  say(`$ npx rotator history ${SECRET}`);
  await runCli([...cliArgs, 'history', SECRET], { io: process, env: cliEnv });

  const current = await local.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: SECRET }));
  const currentVersion = versionWith(current.VersionIdsToStages ?? {}, 'AWSCURRENT') ?? '';
  const expected = JSON.parse(
    (await readVersion(local.clients, arn, currentVersion, 'AWSCURRENT')) ?? '{}',
  ).password;
  const inCluster = execFileSync(
    cluster.kubectl,
    [
      '--kubeconfig',
      cluster.kubeconfig,
      '-n',
      namespace,
      'get',
      'secret',
      'payments-api',
      '-o',
      'jsonpath={.data.password}',
    ],
    { encoding: 'utf8' },
  );
  const matches = Buffer.from(inCluster, 'base64').toString('utf8') === expected;
  say('');
  say(`Outcome in ${seconds(started)}:`);
  say(
    `  Secret ${namespace}/payments-api holds AWSCURRENT (${short(currentVersion)}): ${matches ? 'yes' : 'NO'} (compared, value not shown)`,
  );
  say(
    `  Secret ${databaseOutcome.namespace}/${databaseOutcome.secret} holds AWSCURRENT (${short(databaseOutcome.currentVersion)}): ${databaseOutcome.inCluster ? 'yes' : 'NO'} (compared, value not shown)`,
  );
  const { previous } = databaseOutcome;
  say(
    `  previous user ${previous.username} logs in: ${previous.login.ok ? 'YES' : `no (revoked; SQLSTATE ${previous.login.code})`}`,
  );
  say(`  status exit code ${statusCode} (0: nothing overdue or stuck)`);
  process.exitCode =
    matches && emergencyCode === 0 && execution?.status === 'SUCCEEDED' && databaseOutcome.succeeded ? 0 : 1;
} finally {
  await orchestrator?.stop();
  await cluster?.stop();
  await database?.then((d) => d.stop()).catch(() => undefined);
  ca.remove();
  await moto.stop();
  say('Local cluster, PostgreSQL and AWS stopped.');
}

async function secretArn(local: LocalOrchestrator): Promise<string> {
  const out = await local.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: SECRET }));
  return out.ARN ?? SECRET;
}

/** The event Secrets Manager emits through CloudTrail when a rotation succeeds, as AWS documents it. */
function rotationSucceeded(arn: string) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'RotationSucceeded',
      awsRegion: 'us-east-1',
      additionalEventData: { SecretId: arn },
      eventType: 'AwsServiceEvent',
    },
  };
}

/** What AWS does after the CLI's RotateSecret, played locally: the four steps, then the event. */
function playRotationLocally(local: LocalOrchestrator, arn: string): AfterRequested {
  return async (rotation, onProgress) => {
    if (rotation.repairedPendingVersionId) {
      onProgress({
        stage: 'rotation',
        message: `repaired: removed AWSPENDING from ${short(rotation.repairedPendingVersionId)}`,
      });
    }
    await local.runRotationSteps(arn, rotation.versionId, (step, outcome) =>
      onProgress({ stage: 'rotation', message: `${step} ${outcome}` }),
    );
    onProgress({
      stage: 'propagation',
      message: 'RotationSucceeded → starter → workflow (emergency: emergencyRestartConcurrency)',
    });
    const { execution } = await local.deliver('EventsRotationSucceeded', rotationSucceeded(arn));
    onProgress({ stage: 'propagation', message: `workflow ${execution?.status ?? 'not started'}` });
  };
}
