/**
 * Benchmark: the deployed propagation path. The synthesized Step Functions definition runs locally
 * (aws-local-stepfunctions), every Task state invoking the bundled propagation-step function warm in
 * its own Node 24 process, against moto (EKS, STS, DynamoDB ledger) and the local cluster with ESO.
 * One managed secret, one ExternalSecret and N Deployments consuming it, plus bystanders; rotate
 * (PutSecretValue), run one execution with restart concurrency C (rollouts in flight, the
 * deployment's percentage and canary as configured) and 1 s Wait states, then again as an emergency
 * (the emergency budget, 100 in flight by default, no canary). Prints wall time, time per phase, the
 * engine's own time (plan + resync + the restart step's work, excluding waits on ESO and rollouts),
 * Lambda invocations per action, Kubernetes API requests of the orchestrator's identity by verb
 * (counted by kube-apiserver through FlowSchemas created here), state transitions and history
 * events. Figures only; nothing is asserted.
 * Run: npm run bench:workflow -- --workloads 500 --concurrency 25 [--replicas 0]
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Command } from 'commander';
import { BundleHost } from '../scripts/local/bundle-host';
import { awsSecretStore, localAwsCredentialsSecret } from '../scripts/local/eso-manifests';
import { localAwsEnvironment, localClient, localClients } from '../scripts/local/local-aws';
import { type LocalCluster, startCluster } from '../scripts/local/local-cluster';
import { localEksCluster, readLocalEks } from '../scripts/local/local-eks';
import { createLedgerTable } from '../scripts/local/local-ledger';
import { createSecrets } from '../scripts/local/local-secrets';
import { synthLocalStack } from '../scripts/local/local-stack';
import { definitionFromTemplate, LocalWorkflow } from '../scripts/local/local-workflow';
import { motoTraceback } from '../scripts/local/moto-call-error';
import { LOCAL_AWS, startMoto } from '../scripts/local/moto-server';
import { mapWithLimit } from '../shared/concurrency';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { rolloutState } from '../shared/propagation/rollout-status';

const { workloads, concurrency, replicas } = new Command('bench:workflow')
  .option('--workloads <n>', 'Deployments consuming the rotated secret', (v) => Number.parseInt(v, 10), 50)
  .option('--concurrency <n>', 'restart concurrency (rollouts in flight)', (v) => Number.parseInt(v, 10), 25)
  .option('--replicas <n>', 'replicas of each consuming Deployment', (v) => Number.parseInt(v, 10), 1)
  .parse()
  .opts<{ workloads: number; concurrency: number; replicas: number }>();
const PREFIX = 'bench/';
const SECRET = `${PREFIX}app/db`;
const OTHERS = 5; // other ExternalSecrets, each with BYSTANDERS / OTHERS Deployments (0 replicas)
const BYSTANDERS = 50;
const NAMESPACE = 'wf-bench';
const GROUP = 'secret-rotation-orchestrator';
const RBAC = fileURLToPath(new URL('../infra/kubernetes/rbac.yaml', import.meta.url));
const log = (line = '') => process.stdout.write(`${line}\n`);
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(8);

/** FlowSchemas that give the orchestrator group's requests their own APF counters, one per verb. */
const COUNTED_VERBS = ['list', 'get', 'patch'] as const;
function flowSchemas() {
  const schema = (name: string, precedence: number, rule: object) => ({
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name },
    spec: {
      priorityLevelConfiguration: { name: 'global-default' },
      matchingPrecedence: precedence,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects: [{ kind: 'Group', group: { name: GROUP } }], ...rule }],
    },
  });
  const resources = (verbs: string[]) => ({
    resourceRules: [{ verbs, apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
  });
  return [
    ...COUNTED_VERBS.map((verb, i) => schema(`bench-rotator-${verb}`, 100 + i, resources([verb]))),
    schema('bench-rotator-other', 110, {
      ...resources(['*']),
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    }),
  ];
}

/** The orchestrator's API requests so far, by verb, from kube-apiserver's APF counters. */
function apiRequests(cluster: LocalCluster): Record<string, number> {
  const metrics = execFileSync(
    cluster.kubectl,
    ['--kubeconfig', cluster.kubeconfig, 'get', '--raw', '/metrics'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const counts: Record<string, number> = {};
  for (const m of metrics.matchAll(
    /^apiserver_flowcontrol_dispatched_requests_total\{[^}]*flow_schema="bench-rotator-(\w+)"[^}]*\} (\S+)$/gm,
  )) {
    counts[m[1] as string] = (counts[m[1] as string] ?? 0) + Number(m[2]);
  }
  return counts;
}

const moto = await startMoto();
const cluster = await startCluster({
  awsEndpoint: moto.endpoint,
  onLog: (l) => /ready in/.test(l) && log(l),
});
let host: BundleHost | undefined;
let hostTail = '';
try {
  const kubectl = (...args: string[]) =>
    execFileSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], { stdio: 'ignore' });
  kubectl('apply', '-f', RBAC);
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const create = (o: object) => objects.create(o as never);
  for (const schema of flowSchemas()) await create(schema);

  // AWS side: the EKS cluster, the ledger, the alert topic, the secrets.
  const aws = localClients(moto.endpoint);
  const eks = readLocalEks(cluster.stateDir);
  await localEksCluster(moto.endpoint, eks);
  const table = 'bench-ledger';
  await createLedgerTable(aws.dynamodb, table);
  const sns = localClient(SNSClient, moto.endpoint);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'bench-alerts' }))).TopicArn ?? '';
  const others = Array.from({ length: OTHERS }, (_, i) => `${PREFIX}app/other-${i}`);
  await createSecrets(
    aws.secretsManager,
    [SECRET, ...others].map((Name) => ({ Name, SecretString: '{"password":"v1"}' })),
  );

  // Cluster side: the ExternalSecrets, N consumers (1 replica), bystanders (0 replicas).
  let t = performance.now();
  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  await create(localAwsCredentialsSecret(NAMESPACE));
  await create(awsSecretStore(NAMESPACE));
  const externalSecret = (name: string, key: string) => ({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: 'aws' },
      target: { name: `${name}-secret` },
      data: [{ secretKey: 'password', remoteRef: { key, property: 'password' } }],
    },
  });
  await create(externalSecret('db', SECRET));
  for (const [i, key] of others.entries()) await create(externalSecret(`other-${i}`, key));
  const deployment = (name: string, secret: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: secret } }] }] },
      },
    },
  });
  const all = [
    ...Array.from({ length: workloads }, (_, i) => deployment(`app-${i}`, 'db-secret', replicas)),
    ...Array.from({ length: BYSTANDERS }, (_, i) =>
      deployment(`bystander-${i}`, `other-${i % OTHERS}-secret`, 0),
    ),
  ];
  await mapWithLimit(all, 16, create);
  const engine = new KubernetesAdapter(
    (() => {
      const k = new KubeConfig();
      k.loadFromFile(cluster.rotatorKubeconfig);
      return k;
    })(),
  );
  for (;;) {
    const ready = (await engine.listExternalSecrets()).filter(
      (es) => es.syncStatus?.ready?.status === 'True',
    );
    const rollouts = [...(await engine.listRollouts(NAMESPACE, 'Deployment')).values()];
    if (ready.length === 1 + OTHERS && rollouts.every((r) => rolloutState(r).state === 'done')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  log(
    `set-up: ${1 + OTHERS} ExternalSecrets, ${workloads} consumers (${replicas} replica(s) each) + ${BYSTANDERS} bystanders, synced and rolled out (${sec(performance.now() - t).trim()})`,
  );

  // The orchestrator: the synthesized stack, its step bundle, its state machine definition.
  t = performance.now();
  const local = synthLocalStack({
    managedPrefixes: [PREFIX],
    propagation: { clusterNames: [eks.name], restartConcurrency: concurrency },
  });
  const step = local.bundles.step;
  if (!step) throw new Error('no propagation-step bundle');
  const stepEnvironment = Object.fromEntries(
    Object.entries(step.environment).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  host = new BundleHost(
    step.directory,
    'propagation-step',
    {
      PATH: process.env.PATH ?? '',
      ...stepEnvironment,
      ...localAwsEnvironment(moto.endpoint),
      ROTATOR_LEDGER_TABLE: table,
    },
    (chunk) => {
      hostTail = (hostTail + chunk).slice(-4000);
    },
  );
  const node = await host.nodeVersion();
  const { definition } = definitionFromTemplate(local.template, ({ logicalId }) =>
    local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
      ? topicArn
      : `arn:aws:lambda:${LOCAL_AWS.region}:123456789012:function:${logicalId}`,
  );
  log(
    `orchestrator: synthesized and bundled, step host on Node ${node} (${sec(performance.now() - t).trim()})`,
  );

  const stepHost = host;
  const runs = [
    { label: `restart concurrency ${concurrency}`, emergency: false },
    { label: 'emergency (emergency restart concurrency)', emergency: true },
  ];
  for (const run of runs) {
    const invocations = new Map<string, { count: number; ms: number }>();
    let restartWork = { restartMs: 0, watchMs: 0 };
    const entered: { name: string; type: string; at: number }[] = [];
    const workflow = new LocalWorkflow(definition, {
      awsEndpoint: moto.endpoint,
      waitOverrides: { WaitForSync: 1000, WaitForRollouts: 1000 },
      onState: (name, type) => entered.push({ name, type, at: performance.now() }),
      invokeLambda: async (_arn, payload) => {
        const action = String((payload as { action?: unknown }).action);
        const began = performance.now();
        try {
          const result = await stepHost.invoke(payload);
          if (action === 'advance-restarts') {
            const r = result as { restartMs?: number; watchMs?: number };
            restartWork = { restartMs: r.restartMs ?? 0, watchMs: r.watchMs ?? 0 };
          }
          return result;
        } finally {
          const seen = invocations.get(action) ?? { count: 0, ms: 0 };
          invocations.set(action, { count: seen.count + 1, ms: seen.ms + performance.now() - began });
        }
      },
    });
    const { VersionId } = await aws.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        SecretString: `{"password":"${run.emergency ? 'v3' : 'v2'}"}`,
      }),
    );
    const load = loadavg()[0]?.toFixed(2);
    const requestsBefore = apiRequests(cluster);
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    const execution = await workflow.run(run.emergency ? 'emergency' : 'normal', {
      secretId: SECRET,
      versionId: VersionId,
      trigger: run.emergency ? 'emergency' : 'event',
      actor: 'bench',
      emergency: run.emergency,
    });
    const ended = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const requestsAfter = apiRequests(cluster);
    report(`${run.label} (${availableParallelism()} cores, 1-min load ${load} at start)`, {
      status:
        execution.status === 'SUCCEEDED'
          ? execution.status
          : `${execution.status} ${JSON.stringify(execution.error)}`,
      began,
      ended,
      cpuMs: (cpu.user + cpu.system) / 1000,
      entered,
      invocations,
      restartWork,
      requests: Object.fromEntries(
        Object.entries(requestsAfter).map(([verb, n]) => [verb, n - (requestsBefore[verb] ?? 0)]),
      ),
    });
    if (execution.status !== 'SUCCEEDED') log(`  step host output (tail):\n${hostTail}`);
  }
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  await host?.stop();
  await cluster.stop();
  await moto.stop();
}

interface RunFigures {
  status: string;
  began: number;
  ended: number;
  cpuMs: number;
  entered: { name: string; type: string; at: number }[];
  invocations: Map<string, { count: number; ms: number }>;
  /** The restart step's own work across its calls: first list + restart waves, and looks at rollouts. */
  restartWork: { restartMs: number; watchMs: number };
  requests: Record<string, number>;
}

/** Prints one run's figures: phases from the first entry of each boundary state, counts, transitions. */
function report(label: string, f: RunFigures) {
  const first = (name: string) => f.entered.find((e) => e.name === name)?.at ?? f.ended;
  const phases: [string, number, number][] = [
    ['claim', f.began, first('Clusters')],
    ['plan', first('Plan'), first('Resync')],
    ['resync + confirm (sync polls)', first('Resync'), first('StartRestarts')],
    ['restarts (waves + rollout watch)', first('StartRestarts'), first('FinishCluster')],
    ['finish cluster + record', first('FinishCluster'), f.ended],
  ];
  const byName = new Map<string, number>();
  for (const e of f.entered) byName.set(e.name, (byName.get(e.name) ?? 0) + 1);
  // Standard workflow history events per state: Task 5 (entered, scheduled, started, succeeded,
  // exited), Map 4 + 2 per iteration, every other type 2; plus ExecutionStarted/Succeeded.
  const iterations = byName.get('Plan') ?? 0;
  const history =
    2 +
    2 * iterations +
    f.entered.reduce((n, e) => n + (e.type === 'Task' ? 5 : e.type === 'Map' ? 4 : 2), 0);
  const ms = (action: string) => f.invocations.get(action)?.ms ?? 0;
  const engineMs = ms('plan') + ms('resync') + f.restartWork.restartMs;
  log(`\n${label}: ${workloads} workloads, ${f.status}`);
  log(`  total wall time                        ${sec(f.ended - f.began)}`);
  for (const [name, from, to] of phases) log(`    ${name.padEnd(35)}${sec(to - from)}`);
  log(
    `  engine time (plan + resync + restart)  ${sec(engineMs)} = plan ${sec(ms('plan')).trim()} + resync ${sec(ms('resync')).trim()} + restart (list + patch waves) ${sec(f.restartWork.restartMs).trim()}`,
  );
  log(`  rollout watch (LISTs of what is in flight) ${sec(f.restartWork.watchMs).trim()}`);
  log(`  bench process CPU (interpreter)        ${sec(f.cpuMs)}`);
  const actions = [...f.invocations].map(
    ([a, { count, ms }]) => `${a} ${count} (mean ${(ms / count).toFixed(0)} ms)`,
  );
  log(
    `  Lambda invocations                     ${[...f.invocations.values()].reduce((n, v) => n + v.count, 0)}: ${actions.join(', ')}`,
  );
  log(`  Kubernetes API requests (orchestrator) ${JSON.stringify(f.requests)}`);
  log(
    `  state transitions (states entered)     ${f.entered.length} (${(f.entered.length / workloads).toFixed(3)} per workload)`,
  );
  log(`    per state                            ${JSON.stringify(Object.fromEntries(byName))}`);
  log(
    `  ≈ history events                       ${history} (${(history / workloads).toFixed(3)} per workload)`,
  );
}
