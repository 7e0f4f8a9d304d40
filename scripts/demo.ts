/**
 * The local story, end to end: a rotation in Secrets Manager (moto) through the real rotation
 * handler, then propagation into a real local cluster with the real ESO controller: plan, resync,
 * confirm, restart in waves, verify. Versions, names and timings are printed; values never are.
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { type ProgressEvent, propagate } from '../shared/propagation/propagate';
import { planPropagation } from '../shared/propagation/propagation-plan';
import { localLambdaContext } from './local/lambda-context';
import { localAwsEnvironment, localClients } from './local/local-aws';
import { type LocalCluster, startCluster } from './local/local-cluster';
import { startMoto } from './local/moto-server';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  startRotation,
} from './local/rotation-fixture';
import { deploySampleApp, SAMPLE_WORKLOADS } from './local/sample-app';

const PREFIX = 'demo/app-team/';
const SECRET = `${PREFIX}orders-db`;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const RBAC = fileURLToPath(new URL('../infra/kubernetes/rbac.yaml', import.meta.url));

const program = new Command('demo')
  .description(
    'Rotate a sample secret in a local Secrets Manager (moto) through the real rotation handler, then carry it\n' +
      'through a local Kubernetes cluster with the real External Secrets Operator to the pods that use it.',
  )
  .option('--verbose', 'also print the handler’s structured logs and the cluster scripts’ output', false)
  .option('--concurrency <n>', 'workloads restarted per wave', (v) => Number.parseInt(v, 10), 2)
  .parse();
const { verbose, concurrency } = program.opts<{ verbose: boolean; concurrency: number }>();

const say = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const started = performance.now();

say('Secret rotation orchestrator: local demo (rotate → resync → restart → verify)\n');
let mark = performance.now();
const moto = await startMoto();
say(`[1/6] local AWS (moto) on ${moto.endpoint} (${seconds(mark)})`);
let cluster: LocalCluster | undefined;
try {
  const clients = localClients(moto.endpoint);
  await createSecret(
    clients,
    SECRET,
    JSON.stringify({ username: 'orders_app', password: 'initial-password-setup' }),
    {
      'rotator:fields': 'password',
    },
  );

  mark = performance.now();
  say('[2/6] local cluster: etcd, kube-apiserver, controller-manager, scheduler, kwok nodes, ESO');
  say('      (the first run builds them from Go modules, about 10-15 minutes; later runs take seconds)');
  cluster = await startCluster({
    awsEndpoint: moto.endpoint,
    onLog: (line) => {
      if (verbose || /building|built|ready in/.test(line)) say(`      ${line}`);
    },
  });
  execFileSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', RBAC], {
    stdio: 'ignore',
  });
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const engineConfig = new KubeConfig();
  engineConfig.loadFromFile(cluster.rotatorKubeconfig);
  const engine = new KubernetesAdapter(engineConfig);
  say(
    `      ✓ ready (${seconds(mark)}); the engine acts as user "rotator", group "secret-rotation-orchestrator"`,
  );

  mark = performance.now();
  const { namespace } = await deploySampleApp(admin, engine, SECRET);
  say(`[3/6] sample app in namespace ${namespace}: ExternalSecret orders-db ← ${SECRET} (${seconds(mark)})`);
  for (const w of SAMPLE_WORKLOADS) say(`      ${`${w.kind}/${w.name}`.padEnd(26)} ${w.how}`);

  say(`[4/6] rotate ${SECRET} through the rotation function`);
  Object.assign(process.env, localAwsEnvironment(moto.endpoint), {
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    POWERTOOLS_LOG_LEVEL: verbose ? 'INFO' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: verbose ? 'false' : 'true',
  });
  const { handler } = await import('../functions/rotate-secret/handler');
  const arn =
    (
      await clients.secretsManager.send(
        new (
          await import('@aws-sdk/client-secrets-manager')
        ).DescribeSecretCommand({ SecretId: SECRET }),
      )
    ).ARN ?? SECRET;
  const token = await startRotation(clients, arn, await ensurePlaceholderRotationFunction(clients));
  for (const step of STEPS) {
    mark = performance.now();
    const result = await handler(
      { Step: step, SecretId: arn, ClientRequestToken: token },
      localLambdaContext('rotate'),
    );
    say(`      ${step.padEnd(14)} ${result.outcome.padEnd(16)} ${seconds(mark)}`);
  }
  say(`      ✓ AWSCURRENT is now version ${token}`);

  mark = performance.now();
  const plan = await planPropagation(engine, { name: SECRET, arn, tags: {} }, token);
  say(`[5/6] plan (${seconds(mark)})`);
  for (const target of [...plan.resync, ...plan.notRefreshing]) {
    const es = target.affected.externalSecret;
    say(`      ExternalSecret ${es.namespace}/${es.name} → Secret ${target.affected.targetSecret}`);
    for (const reason of target.affected.reasons) say(`        because ${reason}`);
    for (const c of target.consumers) {
      const how = c.reasons.map((r) => `${r.via}${r.where ? ` (${r.where})` : ''}`).join(', ');
      say(`        restart ${`${c.workload.kind}/${c.workload.name}`.padEnd(24)} uses it via ${how}`);
    }
  }

  mark = performance.now();
  say(`[6/6] propagate: resync → confirm → restart in waves of ${concurrency} → verify`);
  const report = await propagate(
    engine,
    plan,
    { concurrency, syncTimeoutMs: 60_000, rolloutTimeoutMs: 120_000, pollIntervalMs: 250 },
    (event) => say(describe(event)),
  );
  const rotated = JSON.parse((await readVersion(clients, arn, token, 'AWSCURRENT')) ?? '{}');
  const inCluster = execFileSync(
    cluster.kubectl,
    [
      '--kubeconfig',
      cluster.kubeconfig,
      '-n',
      namespace,
      'get',
      'secret',
      'orders-db',
      '-o',
      'jsonpath={.data.password}',
    ],
    { encoding: 'utf8' },
  );
  const matches = Buffer.from(inCluster, 'base64').toString('utf8') === rotated.password;
  say('');
  say(`Outcome: ${report.outcome} in ${seconds(started)}`);
  say(
    `  Secret ${namespace}/orders-db holds the new version: ${matches ? 'yes' : 'NO'} (compared, value not shown)`,
  );
  say(`  restarted: ${report.restarted.map((r) => `${r.kind}/${r.name}`).join(', ') || 'none'}`);
  say(`  untouched: Deployment/static-site (does not use the secret)`);
  process.exitCode = report.outcome === 'succeeded' && matches ? 0 : 1;
} finally {
  await cluster?.stop();
  await moto.stop();
  say('Local cluster and AWS stopped.');
}

function describe(event: ProgressEvent): string {
  switch (event.type) {
    case 'resync-requested':
      return `      annotated ${event.count} ExternalSecret(s) with external-secrets.io/force-sync`;
    case 'sync-confirmed':
      return `      ✓ ESO synced ${event.ref.namespace}/${event.ref.name}`;
    case 'sync-failed':
      return `      ✗ ESO sync of ${event.ref.namespace}/${event.ref.name} failed: ${event.reason}`;
    case 'wave-started':
      return `      wave ${event.wave}/${event.waves}: restarting ${event.workloads.map((w) => `${w.kind}/${w.name}`).join(', ')}`;
    case 'rollout-done':
      return `        ✓ ${event.ref.kind}/${event.ref.name} rolled out`;
    case 'rollout-failed':
      return `        ✗ ${event.ref.kind}/${event.ref.name}: ${event.reason}`;
    case 'waiting':
      return `        … waiting for ${event.pending} ${event.what} (${(event.elapsedMs / 1000).toFixed(1)} s)`;
  }
}
