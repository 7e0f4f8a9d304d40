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
 * (counted by kube-apiserver through FlowSchemas created here, with their mean time executing and
 * queued there), state transitions and history
 * events. With --clusters N, N local clusters (each its own control plane, ESO and EKS name) get the
 * same set-up and the deployment lists them all: one execution carries each rotation to every
 * cluster (the workflow's Map), and the figures are printed per cluster and in total.
 * With --external-secrets E --namespaces N the rotated secret is read by E ExternalSecrets spread
 * round robin over N namespaces (each has at least one), the consumers spread over them likewise,
 * and --bystanders B Deployments at 0 replicas read other ExternalSecrets' Secrets: issue 8's shape
 * is --workloads 500 --external-secrets 100 --namespaces 50 --bystanders 500 (1,000 in total) or
 * 4500 (5,000). --rounds R repeats both executions on the same set-up. --cpu-prof DIR makes each
 * step host write a V8 CPU profile of its life to DIR (bench/profile-summary.ts reads it).
 * Figures only; nothing is asserted.
 * Run: npm run bench:workflow -- --workloads 500 --concurrency 25 [--replicas 0] [--clusters 2]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Command } from 'commander';
import { BundleHost } from '../harness/bundle-host';
import { awsExternalSecret, awsSecretStore, localAwsCredentialsSecret } from '../harness/eso-manifests';
import { localAwsEnvironment, localClient, localClients } from '../harness/local-aws';
import {
  applyManifests,
  type LocalCluster,
  ORCHESTRATOR_MANIFESTS,
  startCluster,
} from '../harness/local-cluster';
import { ensureLocalDependencies } from '../harness/local-dependencies';
import { localEksCluster, readLocalEks } from '../harness/local-eks';
import { createLedgerTable } from '../harness/local-ledger';
import { createSecrets } from '../harness/local-secrets';
import { synthLocalStack } from '../harness/local-stack';
import { definitionFromTemplate, LocalWorkflow } from '../harness/local-workflow';
import { motoTraceback } from '../harness/moto-call-error';
import { LOCAL_AWS, startMoto } from '../harness/moto-server';
import { envFromDeployment } from '../harness/workload-manifests';
import { mapWithLimit } from '../shared/concurrency';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { ANNOTATIONS } from '../shared/propagation/consumer-annotations';
import { rolloutState } from '../shared/propagation/rollout-status';
import { WORKLOAD_KINDS } from '../shared/propagation/workload-types';
import { restartPatch } from '../shared/workflow/restart-steps';
import { delta, meansPerRequest, type OrchestratorRequests, orchestratorRequests } from './apiserver-metrics';

const int = (v: string) => Number.parseInt(v, 10);
const options = new Command('bench:workflow')
  .option('--workloads <n>', 'Deployments consuming the rotated secret', int, 50)
  .option('--concurrency <n>', 'restart concurrency (rollouts in flight)', int, 25)
  .option('--replicas <n>', 'replicas of each consuming Deployment', int, 1)
  .option('--clusters <n>', 'local clusters, each with the same set-up', int, 1)
  .option('--external-secrets <n>', 'ExternalSecrets reading the rotated secret, over the namespaces', int, 1)
  .option('--namespaces <n>', 'namespaces the ExternalSecrets, consumers and bystanders spread over', int, 1)
  .option('--bystanders <n>', 'Deployments (0 replicas) reading other ExternalSecrets', int, 50)
  .option('--rounds <n>', 'rounds of the two executions (normal, emergency) on one set-up', int, 1)
  .option('--cpu-prof <dir>', "write each step host's V8 CPU profile to this directory")
  .option('--probe', "after the runs, time the engine's cluster calls one by one from this process")
  .option(
    '--no-admission-policy',
    'leave infra/kubernetes/admission-policy.yaml out (applied by default, as the README has users do), to see its cost',
  )
  .parse()
  .opts<{
    workloads: number;
    concurrency: number;
    replicas: number;
    clusters: number;
    externalSecrets: number;
    namespaces: number;
    bystanders: number;
    rounds: number;
    cpuProf?: string;
    probe?: boolean;
    admissionPolicy: boolean;
  }>();
const { workloads, concurrency, replicas, clusters, bystanders, rounds } = options;
if (options.externalSecrets < options.namespaces) {
  throw new Error('--external-secrets must be at least --namespaces (one in each namespace)');
}
const PREFIX = 'bench/workflow/';
const SECRET = `${PREFIX}app/db`;
const OTHERS = 5; // other AWS secrets, read by the bystanders' ExternalSecrets
const layout = benchLayout(options.namespaces, options.externalSecrets, OTHERS);
const GROUP = 'secret-rotation-orchestrator';
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

/** The orchestrator's API requests so far (see apiserver-metrics.ts), from kube-apiserver's /metrics. */
function apiRequests(cluster: LocalCluster): OrchestratorRequests {
  const metrics = execFileSync(
    cluster.kubectl,
    ['--kubeconfig', cluster.kubeconfig, 'get', '--raw', '/metrics'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return orchestratorRequests(metrics);
}

/**
 * Where everything goes. One namespace and one ExternalSecret (the defaults): namespace wf-bench,
 * ExternalSecret `db`, 5 other ExternalSecrets that the bystanders share round robin. Otherwise
 * namespaces wf-bench-0…N-1, ExternalSecrets `db-i` of the rotated secret in namespace i mod N,
 * ceil(5 / N) other ExternalSecrets per namespace; consumer j (and bystander j) in namespace
 * j mod N, reading that namespace's ExternalSecrets' Secrets in turn.
 */
function benchLayout(namespaceCount: number, rotatedCount: number, otherSecrets: number) {
  const namespaces =
    namespaceCount === 1 ? ['wf-bench'] : Array.from({ length: namespaceCount }, (_, n) => `wf-bench-${n}`);
  const rotated = namespaces.map(() => [] as string[]);
  for (let i = 0; i < rotatedCount; i++) {
    rotated[i % namespaceCount]?.push(rotatedCount === 1 ? 'db' : `db-${i}`);
  }
  const othersPerNamespace = Math.ceil(otherSecrets / namespaceCount);
  const others = namespaces.map((_, n) =>
    Array.from({ length: othersPerNamespace }, (_, o) => ({
      name: `other-${o}`,
      key: (n * othersPerNamespace + o) % otherSecrets,
    })),
  );
  const pick = <T>(list: readonly T[], j: number) => list[Math.floor(j / namespaceCount) % list.length] as T;
  return {
    namespaces,
    rotated,
    others,
    externalSecrets: rotatedCount + namespaceCount * othersPerNamespace,
    /** Namespace and name of consumer `j`, and the Secret it reads. */
    consumer: (j: number) => ({
      namespace: namespaces[j % namespaceCount] as string,
      name: `app-${j}`,
      secret: `${pick(rotated[j % namespaceCount] as string[], j)}-secret`,
    }),
    bystander: (j: number) => ({
      namespace: namespaces[j % namespaceCount] as string,
      name: `bystander-${j}`,
      secret: `${pick(others[j % namespaceCount] ?? [], j).name}-secret`,
    }),
  };
}

/** One cluster's set-up: RBAC and the admission policy as deployed (README), the counting FlowSchemas, the ExternalSecrets, N consumers, bystanders (0 replicas); waits until all are synced and rolled out. */
async function setUpCluster(cluster: LocalCluster, others: readonly string[]): Promise<void> {
  applyManifests(
    cluster,
    ORCHESTRATOR_MANIFESTS.filter(
      (file) => options.admissionPolicy || !file.endsWith('admission-policy.yaml'),
    ),
  );
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const create = (o: object) => objects.create(o as never);
  for (const schema of flowSchemas()) await create(schema);
  await mapWithLimit([...layout.namespaces.entries()], 16, async ([n, namespace]) => {
    await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await create(localAwsCredentialsSecret(namespace));
    await create(awsSecretStore(namespace));
    for (const name of layout.rotated[n] ?? []) await create(awsExternalSecret(namespace, name, SECRET));
    for (const other of layout.others[n] ?? []) {
      await create(awsExternalSecret(namespace, other.name, others[other.key] as string));
    }
  });
  const deployment = (w: { namespace: string; name: string; secret: string }, replicas: number) =>
    envFromDeployment(w.namespace, w.name, w.secret, { replicas });
  const all = [
    ...Array.from({ length: workloads }, (_, j) => deployment(layout.consumer(j), replicas)),
    ...Array.from({ length: bystanders }, (_, j) => deployment(layout.bystander(j), 0)),
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
    const rollouts = (
      await mapWithLimit(layout.namespaces, 8, (ns) => engine.listRollouts(ns, 'Deployment'))
    ).flatMap((m) => [...m.values()]);
    if (ready.length === layout.externalSecrets && rollouts.every((r) => rolloutState(r).state === 'done')) {
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

ensureLocalDependencies(['MOTO_PYTHON'], (line) => process.stderr.write(`${line}\n`));
const moto = await startMoto();
const started: LocalCluster[] = [];
const hosts: BundleHost[] = [];
let hostTail = '';
try {
  // The first cluster keeps up.sh's default EKS name ("local"); the others are "local-2", "local-3"…
  for (let i = 0; i < clusters; i++) {
    started.push(
      await startCluster({
        awsEndpoint: moto.endpoint,
        ...(i === 0 ? {} : { eksClusterName: `local-${i + 1}` }),
        onLog: (l) => /ready in/.test(l) && log(l),
      }),
    );
  }
  const targets = started.map((cluster) => ({ cluster, eks: readLocalEks(cluster.stateDir) }));

  // AWS side: the EKS clusters, the ledger, the alert topic, the secrets.
  const aws = localClients(moto.endpoint);
  for (const { eks } of targets) await localEksCluster(moto.endpoint, eks);
  const table = 'bench-ledger';
  await createLedgerTable(aws.dynamodb, table);
  const sns = localClient(SNSClient, moto.endpoint);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'bench-alerts' }))).TopicArn ?? '';
  const others = Array.from({ length: OTHERS }, (_, i) => `${PREFIX}app/other-${i}`);
  await createSecrets(
    aws.secretsManager,
    [SECRET, ...others].map((Name) => ({ Name, SecretString: '{"password":"v1"}' })),
  );

  let t = performance.now();
  for (const { cluster } of targets) await setUpCluster(cluster, others);
  log(
    `set-up${clusters > 1 ? ` in each of ${clusters} clusters` : ''}: ${layout.namespaces.length} namespace(s), ${options.externalSecrets} ExternalSecret(s) of the rotated secret + ${layout.externalSecrets - options.externalSecrets} others, ${workloads} consumers (${replicas} replica(s) each) + ${bystanders} bystanders (${workloads + bystanders} workloads), synced and rolled out (${sec(performance.now() - t).trim()}, 1-min load ${loadavg()[0]?.toFixed(2)})`,
  );

  // The orchestrator: the synthesized stack, its step bundle, its state machine definition.
  t = performance.now();
  const local = synthLocalStack({
    managedPrefixes: [PREFIX],
    propagation: { clusterNames: targets.map((c) => c.eks.name), restartConcurrency: concurrency },
  });
  const step = local.bundles.step;
  if (!step) throw new Error('no propagation-step bundle');
  if (options.cpuProf) {
    // The bundle's directory is temporary: keep its source map beside the profiles, for profile-summary.ts.
    mkdirSync(options.cpuProf, { recursive: true });
    copyFileSync(
      join(step.directory, 'index.mjs.map'),
      join(options.cpuProf, `${basename(step.directory)}.index.mjs.map`),
    );
  }
  const stepEnvironment = Object.fromEntries(
    Object.entries(step.environment).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  // A host runs one invocation at a time, as one Lambda execution environment does; Lambda gives
  // concurrent invocations (the Map's clusters) environments of their own, so each cluster gets its
  // own host (Claim and Record use the first), or one cluster's calls would queue behind another's.
  for (let i = 0; i < clusters; i++) {
    hosts.push(
      new BundleHost(
        step.directory,
        'propagation-step',
        {
          PATH: process.env.PATH ?? '',
          ...stepEnvironment,
          ...localAwsEnvironment(moto.endpoint),
          ROTATOR_LEDGER_TABLE: table,
          ...(options.cpuProf ? { NODE_OPTIONS: profilingNodeOptions(stepEnvironment.NODE_OPTIONS) } : {}),
        },
        (chunk) => {
          hostTail = (hostTail + chunk).slice(-4000);
        },
      ),
    );
  }
  const nodes = await Promise.all(hosts.map((h) => h.nodeVersion()));
  const node = [...new Set(nodes)].join(', ');
  const { definition } = definitionFromTemplate(local.template, ({ logicalId }) =>
    local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
      ? topicArn
      : `arn:aws:lambda:${LOCAL_AWS.region}:123456789012:function:${logicalId}`,
  );
  log(
    `orchestrator: synthesized and bundled, ${hosts.length} step host(s) on Node ${node} (${sec(performance.now() - t).trim()})`,
  );

  const hostFor = (cluster: unknown) =>
    hosts[
      Math.max(
        0,
        targets.findIndex((c) => c.eks.name === cluster),
      )
    ] as BundleHost;
  const runs = Array.from({ length: rounds }, (_, r) => [
    { round: r + 1, label: `restart concurrency ${concurrency}`, emergency: false },
    { round: r + 1, label: 'emergency (emergency restart concurrency)', emergency: true },
  ]).flat();
  const rows: SummaryRow[] = [];
  for (const [index, run] of runs.entries()) {
    // Per cluster (the `cluster` of each step's payload; Claim and Record carry none: "-").
    const perCluster = new Map<string, ClusterFigures>();
    const figuresOf = (cluster: string) => {
      let f = perCluster.get(cluster);
      if (!f) {
        f = { invocations: new Map(), restartWork: noRestartWork(), first: Infinity, last: 0 };
        perCluster.set(cluster, f);
      }
      return f;
    };
    const entered: { name: string; type: string; at: number }[] = [];
    const workflow = new LocalWorkflow(definition, {
      awsEndpoint: moto.endpoint,
      waitOverrides: { WaitForSync: 1000, WaitForRollouts: 1000 },
      onState: (name, type) => entered.push({ name, type, at: performance.now() }),
      invokeLambda: async (_arn, payload) => {
        const { action: rawAction, cluster } = payload as { action?: unknown; cluster?: unknown };
        const action = String(rawAction);
        const f = figuresOf(typeof cluster === 'string' ? cluster : '-');
        const began = performance.now();
        f.first = Math.min(f.first, began);
        try {
          const result = await hostFor(cluster).invoke(payload);
          if (action === 'advance-restarts') {
            const r = result as Partial<RestartWork>;
            f.restartWork = {
              restartMs: r.restartMs ?? 0,
              watchMs: r.watchMs ?? 0,
              waveMs: r.waveMs ?? 0,
              waves: r.waves ?? 0,
              slowestWaveMs: r.slowestWaveMs ?? 0,
            };
          }
          return result;
        } finally {
          const now = performance.now();
          f.last = Math.max(f.last, now);
          const seen = f.invocations.get(action) ?? { count: 0, ms: 0 };
          f.invocations.set(action, { count: seen.count + 1, ms: seen.ms + now - began });
        }
      },
    });
    const { VersionId } = await aws.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        SecretString: `{"password":"v${index + 2}"}`,
      }),
    );
    const load = loadavg()[0]?.toFixed(2);
    const requestsBefore = targets.map(({ cluster }) => apiRequests(cluster));
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
    const loadAtEnd = loadavg()[0]?.toFixed(2);
    const cpu = process.cpuUsage(cpuBefore);
    const requestsAfter = targets.map(({ cluster }) => apiRequests(cluster));
    const requests = requestsAfter.map((after, i) => delta(after.counts, requestsBefore[i]?.counts));
    const serverSeconds = requestsAfter.map((after, i) => delta(after.seconds, requestsBefore[i]?.seconds));
    const invocations = new Map<string, { count: number; ms: number }>();
    for (const f of perCluster.values()) {
      for (const [action, v] of f.invocations) {
        const seen = invocations.get(action) ?? { count: 0, ms: 0 };
        invocations.set(action, { count: seen.count + v.count, ms: seen.ms + v.ms });
      }
    }
    const label = `${rounds > 1 ? `round ${run.round}, ` : ''}${run.label}`;
    const row = report(
      `${label} (${availableParallelism()} cores, 1-min load ${load} at start, ${loadAtEnd} at end)`,
      {
        status:
          execution.status === 'SUCCEEDED'
            ? execution.status
            : `${execution.status} ${JSON.stringify(execution.error)}`,
        began,
        ended,
        cpuMs: (cpu.user + cpu.system) / 1000,
        entered,
        invocations,
        restartWork: [...perCluster.values()].reduce(
          (sum, f) => ({
            restartMs: sum.restartMs + f.restartWork.restartMs,
            watchMs: sum.watchMs + f.restartWork.watchMs,
            waveMs: sum.waveMs + f.restartWork.waveMs,
            waves: sum.waves + f.restartWork.waves,
            slowestWaveMs: Math.max(sum.slowestWaveMs, f.restartWork.slowestWaveMs),
          }),
          noRestartWork(),
        ),
        requests: sumCounts(requests),
        serverSeconds: sumCounts(serverSeconds),
      },
    );
    rows.push({
      ...row,
      round: run.round,
      run: run.emergency ? 'emergency' : `C = ${concurrency}`,
      load: `${load} → ${loadAtEnd}`,
    });
    if (clusters > 1) {
      targets.forEach(({ eks }, i) => {
        const f = perCluster.get(eks.name);
        if (f) reportCluster(eks.name, f, requests[i] ?? {});
      });
    }
    if (execution.status !== 'SUCCEEDED') log(`  step host output (tail):\n${hostTail}`);
  }
  summaryTable(rows);
  if (options.probe) for (const { cluster } of targets) await probe(cluster);
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  for (const host of hosts) await host.stop();
  if (options.cpuProf) log(`step host CPU profile(s) in ${resolve(options.cpuProf)}`);
  for (const cluster of started) await cluster.stop();
  await moto.stop();
}

/**
 * The engine's cluster calls timed one kind at a time, from this process with the orchestrator's
 * identity (a kubeconfig, not the step's EKS token; same undici client): the workload LISTs of the
 * affected namespaces (what Plan does, and the first advance-restarts call again), as many restart
 * PATCHes as there are consumers in waves of C and all at once (API concurrency 32, as the step),
 * the force-sync PATCHes Resync sends, and reading the ExternalSecrets' sync status with one GET
 * each (check-sync) or one cluster-wide LIST. The PATCHes are the step's own restart patch, which the admission policy allows, sent to
 * the bystanders (0 replicas, round robin): each makes a new ReplicaSet but starts no pod, so they
 * time the API server's write with its admission checks while no rollout competes for the CPU.
 */
async function probe(cluster: LocalCluster) {
  const k = new KubeConfig();
  k.loadFromFile(cluster.rotatorKubeconfig);
  const adapter = new KubernetesAdapter(k);
  const timed = async <T>(what: string, work: () => Promise<T>, detail: (r: T) => string = () => '') => {
    const load = loadavg()[0]?.toFixed(2);
    const from = performance.now();
    const cpu = process.cpuUsage();
    const result = await work();
    const used = process.cpuUsage(cpu);
    log(
      `    ${what.padEnd(72)}${sec(performance.now() - from)}  (CPU ${sec((used.user + used.system) / 1000).trim()}, load ${load}) ${detail(result)}`,
    );
    return result;
  };
  const affected = layout.namespaces.filter((_, n) => (layout.rotated[n] ?? []).length > 0);
  log(`\nprobe (${availableParallelism()} cores): ${affected.length} affected namespace(s)`);
  for (let i = 1; i <= 3; i++) {
    await timed(
      `list every workload kind (${WORKLOAD_KINDS.length}) in each, ${i}`,
      () => mapWithLimit(affected, 32, (ns) => adapter.listWorkloads(ns)),
      (lists) => `${lists.length * WORKLOAD_KINDS.length} LISTs, ${lists.flat().length} workloads`,
    );
  }
  // One PATCH per consumer, sent to the bystanders round robin; none when there are no bystanders.
  const targets =
    bystanders > 0 ? Array.from({ length: workloads }, (_, j) => layout.bystander(j % bystanders)) : [];
  const patch = (round: string) => (w: { namespace: string; name: string }) =>
    adapter.patchWorkload(
      { kind: 'Deployment', namespace: w.namespace, name: w.name },
      restartPatch('bench-probe', `probe-${round}`, new Date().toISOString()),
    );
  if (targets.length === 0)
    log('    restart PATCHes: not timed (they go to the bystanders; --bystanders is 0)');
  for (const round of targets.length > 0 ? ['1', '2'] : []) {
    await timed(
      `${workloads} restart PATCHes to ${Math.min(workloads, bystanders)} bystanders in waves of ${concurrency}, ${round}`,
      async () => {
        for (let i = 0; i < targets.length; i += concurrency) {
          await mapWithLimit(targets.slice(i, i + concurrency), 32, patch(`waves-${round}`));
        }
      },
    );
    await timed(`${workloads} restart PATCHes to the bystanders, all at once (32 in flight), ${round}`, () =>
      mapWithLimit(targets, 32, patch(`once-${round}`)),
    );
  }
  const rotated = layout.namespaces.flatMap((ns, n) =>
    (layout.rotated[n] ?? []).map((name) => ({ ns, name })),
  );
  for (const round of ['1', '2']) {
    // What Resync sends (ESO then fetches the value again: the same value, nothing changes).
    await timed(`${rotated.length} force-sync PATCHes of the ExternalSecrets (32 in flight), ${round}`, () =>
      mapWithLimit(rotated, 32, ({ ns, name }) =>
        adapter.annotateExternalSecret(
          { kind: 'ExternalSecret', namespace: ns, name },
          { [ANNOTATIONS.forceSync]: `probe-${round}@${new Date().toISOString()}` },
        ),
      ),
    );
  }
  for (const round of ['1', '2']) {
    await timed(`sync status of ${rotated.length} ExternalSecrets, one GET each, ${round}`, () =>
      mapWithLimit(rotated, 32, ({ ns, name }) =>
        adapter.getExternalSecretSync({ kind: 'ExternalSecret', namespace: ns, name }),
      ),
    );
    await timed(
      `sync status of ${rotated.length} ExternalSecrets, one cluster-wide LIST, ${round}`,
      () => adapter.listExternalSecrets(),
      (all) => `${all.length} listed`,
    );
  }
}

/**
 * The restart step's own work, as its last call reports it (all its calls): restartMs = its lists of
 * the consumers + its PATCH waves (waveMs, over `waves` waves, the slowest slowestWaveMs); watchMs =
 * its looks at rollouts in flight.
 */
interface RestartWork {
  restartMs: number;
  watchMs: number;
  waveMs: number;
  waves: number;
  slowestWaveMs: number;
}
function noRestartWork(): RestartWork {
  return { restartMs: 0, watchMs: 0, waveMs: 0, waves: 0, slowestWaveMs: 0 };
}

/** One cluster's share of a run: its steps' invocations, its restart step's work, first and last call. */
interface ClusterFigures {
  invocations: Map<string, { count: number; ms: number }>;
  restartWork: RestartWork;
  first: number;
  last: number;
}

function sumCounts(all: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const counts of all) for (const [k, n] of Object.entries(counts)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}

/** One cluster's figures: its iteration's wall time (first Plan call to FinishCluster's end), engine time, calls, API requests. */
function reportCluster(name: string, f: ClusterFigures, requests: Record<string, number>) {
  const ms = (action: string) => f.invocations.get(action)?.ms ?? 0;
  const engineMs = ms('plan') + ms('resync') + f.restartWork.restartMs;
  const calls = [...f.invocations].map(([a, { count }]) => `${a} ${count}`).join(', ');
  log(`  cluster ${name}: ${workloads} workloads`);
  log(`    iteration wall time (plan → finish)  ${sec(f.last - f.first)}`);
  log(
    `    engine time                          ${sec(engineMs)} = plan ${sec(ms('plan')).trim()} + resync ${sec(ms('resync')).trim()} + restart ${sec(f.restartWork.restartMs).trim()}; rollout watch ${sec(f.restartWork.watchMs).trim()}`,
  );
  log(`    Lambda invocations                   ${calls}`);
  log(`    Kubernetes API requests              ${JSON.stringify(requests)}`);
}

interface RunFigures {
  status: string;
  began: number;
  ended: number;
  cpuMs: number;
  entered: { name: string; type: string; at: number }[];
  invocations: Map<string, { count: number; ms: number }>;
  /** The restart step's own work across its calls (summed over clusters; the slowest wave of all). */
  restartWork: RestartWork;
  requests: Record<string, number>;
  /** The orchestrator's requests' seconds in kube-apiserver (APF): `<verb> executing`, `<verb> queued`. */
  serverSeconds: Record<string, number>;
}

/** One run's figures as a row of the closing table. */
interface SummaryRow {
  round: number;
  run: string;
  load: string;
  status: string;
  wallMs: number;
  planMs: number;
  resyncMs: number;
  restartMs: number;
  watchMs: number;
  invocations: number;
  transitions: number;
  history: number;
  requests: Record<string, number>;
}

/** The runs side by side, as a Markdown table (1-minute load at each run's start → end). */
function summaryTable(rows: readonly SummaryRow[]) {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  log(
    `\nsummary: ${workloads} consumers + ${bystanders} bystanders, ${options.externalSecrets} ExternalSecret(s) of the rotated secret in ${layout.namespaces.length} namespace(s)${clusters > 1 ? `, × ${clusters} clusters` : ''}; ${availableParallelism()} cores; admission policy ${options.admissionPolicy ? 'applied' : 'left out'}`,
  );
  log(
    '| round | run | 1-min load | wall | engine = plan + resync + restart | rollout watch | Lambda invocations | transitions | history events | API requests |',
  );
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const engine = r.planMs + r.resyncMs + r.restartMs;
    const api = Object.entries(r.requests)
      .filter(([, n]) => n > 0)
      .map(([verb, n]) => `${verb} ${n}`)
      .join(', ');
    log(
      `| ${r.round} | ${r.run}${r.status === 'SUCCEEDED' ? '' : ` (${r.status.split(' ')[0]})`} | ${r.load} | ${s(r.wallMs)} | ${s(engine)} = ${s(r.planMs)} + ${s(r.resyncMs)} + ${s(r.restartMs)} | ${s(r.watchMs)} | ${r.invocations} | ${r.transitions} | ${r.history} | ${api} |`,
    );
  }
}

/**
 * The step's NODE_OPTIONS plus a CPU profile written when the host exits; BundleHost stops it with
 * SIGTERM, which bench/exit-on-sigterm.mjs turns into an ordinary exit so the profile is written.
 */
function profilingNodeOptions(synthesized: string | undefined): string {
  const dir = resolve(options.cpuProf as string);
  mkdirSync(dir, { recursive: true });
  const hook = fileURLToPath(new URL('./exit-on-sigterm.mjs', import.meta.url));
  return [synthesized ?? '', '--cpu-prof', `--cpu-prof-dir=${dir}`, `--import=${hook}`].join(' ').trim();
}

/** Prints one run's figures: phases from the first entry of each boundary state, counts, transitions. */
function report(label: string, f: RunFigures): Omit<SummaryRow, 'round' | 'run' | 'load'> {
  const first = (name: string) => f.entered.find((e) => e.name === name)?.at ?? f.ended;
  // With several clusters, the restarts phase runs until the last cluster finishes.
  const last = (name: string) => f.entered.findLast((e) => e.name === name)?.at ?? f.ended;
  const phases: [string, number, number][] = [
    ['claim', f.began, first('Clusters')],
    ['plan', first('Plan'), first('Resync')],
    ['resync + confirm (sync polls)', first('Resync'), first('StartRestarts')],
    ['restarts (waves + rollout watch)', first('StartRestarts'), last('FinishCluster')],
    ['finish cluster + record', last('FinishCluster'), f.ended],
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
  const total = workloads * clusters;
  log(
    `\n${label}: ${clusters > 1 ? `${clusters} clusters × ${workloads} = ${total}` : workloads} workloads, ${f.status}`,
  );
  log(`  total wall time                        ${sec(f.ended - f.began)}`);
  for (const [name, from, to] of phases) log(`    ${name.padEnd(35)}${sec(to - from)}`);
  log(
    `  engine time (plan + resync + restart)  ${sec(engineMs)} = plan ${sec(ms('plan')).trim()} + resync ${sec(ms('resync')).trim()} + restart (list + patch waves) ${sec(f.restartWork.restartMs).trim()}`,
  );
  const w = f.restartWork;
  log(
    `    restart = lists of the consumers ${sec(w.restartMs - w.waveMs).trim()} + ${w.waves} PATCH waves ${sec(w.waveMs).trim()} (slowest ${sec(w.slowestWaveMs).trim()})`,
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
    `    in kube-apiserver, mean per request  ${meansPerRequest({ counts: f.requests, seconds: f.serverSeconds })}`,
  );
  log(
    `  state transitions (states entered)     ${f.entered.length} (${(f.entered.length / total).toFixed(3)} per workload)`,
  );
  log(`    per state                            ${JSON.stringify(Object.fromEntries(byName))}`);
  log(`  ≈ history events                       ${history} (${(history / total).toFixed(3)} per workload)`);
  return {
    status: f.status,
    wallMs: f.ended - f.began,
    planMs: ms('plan'),
    resyncMs: ms('resync'),
    restartMs: f.restartWork.restartMs,
    watchMs: f.restartWork.watchMs,
    invocations: [...f.invocations.values()].reduce((n, v) => n + v.count, 0),
    transitions: f.entered.length,
    history,
    requests: f.requests,
  };
}
