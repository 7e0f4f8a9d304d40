/**
 * Benchmark: one rotation reaching many workloads, three ways, on the same local cluster and the
 * same workloads (moto for Secrets Manager, the real ESO, kwok pods):
 *   eso           ESO alone: its refreshInterval writes the new value; nothing restarts.
 *   reloader      stakater/Reloader out of cluster (its own identity, bound to cluster-admin), the
 *                 consumers annotated `reloader.stakater.com/auto: "true"` for this arm only.
 *   orchestrator  one execution of the deployed workflow (bench/workflow.ts's way: synthesized
 *                 definition, bundled step function), started as the starter would.
 * One AWS secret feeds S ExternalSecrets over N namespaces, read by C Deployments (1 replica);
 * B bystanders (0 replicas) read another ExternalSecret's Secret. Each arm rotates once
 * (PutSecretValue) and reports, from the new AWSCURRENT: when the Secrets held it, when the last
 * rollout was done (kubectl's rules), pod-template changes per Deployment, consumers never restarted,
 * API writes of the restarter (FlowSchema counters), peak rollouts in flight (every 500 ms).
 * Figures only; nothing is asserted. docs/reloader-comparison.md has the set-up and the results.
 * Run: npx tsx bench/reloader.ts --reloader ~/.cache/secret-rotation-orchestrator/bin/reloader-1.4.21/reloader
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Command } from 'commander';
import { localClients } from '../harness/local-aws';
import { startCluster } from '../harness/local-cluster';
import { ensureLocalDependencies } from '../harness/local-dependencies';
import { createSecrets } from '../harness/local-secrets';
import { motoTraceback } from '../harness/moto-call-error';
import { startMoto } from '../harness/moto-server';
import {
  benchObjects,
  CONSUMERS,
  consumerRefs,
  isRotatedSecret,
  namespaceOf,
  type WorkloadShape,
} from '../scripts/reloader/bench-workloads';
import { type ArmRow, comparisonTable } from '../scripts/reloader/comparison-table';
import { type OrchestratorArm, prepareOrchestrator } from '../scripts/reloader/orchestrator-arm';
import {
  RELOADER_USER,
  ReloaderProcess,
  reloaderBinding,
  writeReloaderKubeconfig,
} from '../scripts/reloader/reloader-process';
import {
  countingFlowSchemas,
  requestCounts,
  requestsBetween,
  writeCount,
} from '../scripts/reloader/request-counts';
import { RotationTracker } from '../scripts/reloader/rotation-tracker';
import { mapWithLimit } from '../shared/concurrency';
import { kubeConfigTransport } from '../shared/kubernetes/kubeconfig-transport';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { rolloutState } from '../shared/propagation/rollout-status';

const ARMS = ['reloader', 'eso', 'orchestrator'] as const;
type Arm = (typeof ARMS)[number];
const int = (v: string) => Number.parseInt(v, 10);
const o = new Command('bench:reloader')
  .option('--reloader <path>', 'Reloader binary (scripts/reloader/build.sh prints its path)')
  .option('--namespaces <n>', 'namespaces', int, 50)
  .option('--consumers <n>', 'Deployments (1 replica) reading the rotated secret', int, 500)
  .option('--secrets <n>', 'ExternalSecrets of the rotated AWS secret (at least one per namespace)', int, 50)
  .option('--bystanders <n>', 'Deployments (0 replicas) reading another secret', int, 4500)
  .option('--arms <list>', `arms in the order to run (${ARMS.join(',')})`, 'reloader,eso,orchestrator')
  .option('--refresh-interval <duration>', "the ExternalSecrets' refreshInterval", '1m')
  .option('--reload-strategy <strategy>', "Reloader's --reload-strategy (env-vars, annotations)", 'env-vars')
  .option('--concurrency <n>', "the workflow's restart concurrency (default: the stack's)", int)
  .option('--workflow-waits <ms>', "the workflow's Wait states, in ms, or 'defined'", '1000')
  .option('--settle <s>', 'seconds to keep watching after an arm looks done (late restarts)', int, 10)
  .option('--timeout <s>', 'seconds an arm may take from the rotation', int, 300)
  .parse()
  .opts<{
    reloader?: string;
    namespaces: number;
    consumers: number;
    secrets: number;
    bystanders: number;
    arms: string;
    refreshInterval: string;
    reloadStrategy: string;
    concurrency?: number;
    workflowWaits: string;
    settle: number;
    timeout: number;
  }>();
const log = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PREFIX = 'bench/reloader/';
const ROTATED = `${PREFIX}app/db`;
const OTHER = `${PREFIX}app/other`;
const AUTO = 'reloader.stakater.com/auto';

const arms = o.arms.split(',').map((a) => a.trim()) as Arm[];
const unknown = arms.filter((a) => !ARMS.includes(a));
if (unknown.length) throw new Error(`unknown arm(s) ${unknown.join(', ')}; arms are ${ARMS.join(', ')}`);
if (o.secrets < o.namespaces) throw new Error('--secrets must be at least --namespaces (one per namespace)');
if (arms.includes('reloader') && !(o.reloader && existsSync(o.reloader))) {
  log(
    `Reloader arm skipped: ${o.reloader ? `no file at ${o.reloader}` : 'no --reloader <path>'}. Build it with ` +
      '`git clone --branch v1.4.21 https://github.com/stakater/Reloader <dir> && scripts/reloader/build.sh <dir>` ' +
      'and pass the path it prints (docs/reloader-comparison.md).',
  );
  arms.splice(arms.indexOf('reloader'), 1);
}
if (arms.length === 0) process.exit(0);
const shape: WorkloadShape = o;
const version = o.reloader ? basename(dirname(o.reloader)).replace(/^reloader-/, '') : '';

ensureLocalDependencies(['MOTO_PYTHON'], (line) => process.stderr.write(`${line}\n`));
const moto = await startMoto();
const cluster = await startCluster({
  awsEndpoint: moto.endpoint,
  onLog: (l) => /ready in/.test(l) && log(l),
});
let tracker: RotationTracker | undefined;
let orchestrator: OrchestratorArm | undefined;
try {
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const transport = kubeConfigTransport(admin);
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const create = (object: object) => objects.create(object as never);
  const subjects = {
    reloader: { kind: 'User', user: { name: RELOADER_USER } },
    rotator: { kind: 'Group', group: { name: 'secret-rotation-orchestrator' } },
  } as const;
  for (const schema of countingFlowSchemas(subjects)) await create(schema);
  await create(reloaderBinding());
  const aws = localClients(moto.endpoint);
  await createSecrets(aws.secretsManager, [
    { Name: ROTATED, SecretString: '{"password":"v1"}' },
    { Name: OTHER, SecretString: '{"password":"other"}' },
  ]);

  let t = performance.now();
  const all = benchObjects(shape, ROTATED, OTHER) as { kind: string }[];
  await mapWithLimit(
    all.filter((x) => x.kind === 'Namespace'),
    16,
    create,
  );
  await mapWithLimit(
    all.filter((x) => x.kind !== 'Namespace'),
    16,
    create,
  );
  tracker = await RotationTracker.start(admin, transport, CONSUMERS, isRotatedSecret);
  await steady(tracker, 'v1', 600);
  log(
    `set-up: ${o.namespaces} namespaces, ${o.secrets} ExternalSecrets of ${ROTATED} (+${o.namespaces} of another), ` +
      `${o.consumers} consumers, ${o.bystanders} bystanders, synced and rolled out (${seconds(t)})`,
  );
  const failures: string[] = [];
  if (arms.includes('orchestrator')) {
    t = performance.now();
    try {
      orchestrator = await prepareOrchestrator({
        awsEndpoint: moto.endpoint,
        cluster,
        prefix: PREFIX,
        restartConcurrency: o.concurrency,
        waitMs: o.workflowWaits === 'defined' ? undefined : int(o.workflowWaits),
      });
      log(`orchestrator: synthesized, step bundle warm (${seconds(t)})`);
    } catch (error) {
      failures.push(`orchestrator: not prepared: ${message(error)}`);
      arms.splice(arms.indexOf('orchestrator'), 1);
    }
  }
  const reloaderKubeconfig = writeReloaderKubeconfig(cluster.stateDir, cluster.server);
  const annotate = (value: string | null) =>
    mapWithLimit(consumerRefs(shape), 16, async ({ namespace, name }) => {
      const response = await transport.send({
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${namespace}/deployments/${name}?fieldManager=bench`,
        headers: { 'Content-Type': 'application/merge-patch+json', Accept: 'application/json' },
        body: JSON.stringify({ metadata: { annotations: { [AUTO]: value } } }),
      });
      if (response.status !== 200)
        throw new Error(`annotating ${namespace}/${name}: HTTP ${response.status}`);
    });

  let current = 'v1';
  const runArm = async (arm: Arm, index: number, tracker: RotationTracker): Promise<ArmRow> => {
    const value = `${arm}-${index + 2}`;
    const details: string[] = [];
    let reloader: ReloaderProcess | undefined;
    try {
      if (arm === 'reloader') {
        await annotate('true');
        const logFile = join(mkdtempSync(join(tmpdir(), 'bench-reloader-')), 'reloader.log');
        details.push(`Reloader ${version}, --reload-strategy=${o.reloadStrategy}, log ${logFile}`);
        reloader = await ReloaderProcess.start({
          binary: o.reloader as string,
          kubeconfig: reloaderKubeconfig,
          reloadStrategy: o.reloadStrategy,
          logFile,
        });
      }
      const before = requestCounts(cluster.kubectl, cluster.kubeconfig);
      const load = loadavg()[0] ?? 0;
      const { VersionId } = await aws.secretsManager.send(
        new PutSecretValueCommand({ SecretId: ROTATED, SecretString: JSON.stringify({ password: value }) }),
      );
      const t0 = performance.now();
      current = value;
      tracker.begin(t0, 'password', value);
      let execution: Promise<string> | undefined;
      let executionDone: string | undefined;
      if (arm === 'orchestrator' && orchestrator) {
        const host = orchestrator;
        execution = host.run(`bench-${index}`, ROTATED, VersionId ?? '').then(
          (e) =>
            `${e.status}${e.error ? ` ${JSON.stringify(e.error)}` : ''} in ${seconds(t0)}` +
            (e.status === 'SUCCEEDED' ? '' : `\n  step output (tail):\n${host.output()}`),
          (error: unknown) => `threw ${message(error)}`,
        );
        void execution.then((s) => {
          executionDone = s;
        });
      }
      await watchArm(tracker, arm, t0, () => executionDone);
      const figures = tracker.end();
      const requests = requestsBetween(
        before,
        requestCounts(cluster.kubectl, cluster.kubeconfig),
        arm === 'reloader' ? 'reloader' : 'rotator',
      );
      if (execution && orchestrator) {
        const host = orchestrator;
        const still = sleep(5000).then(
          () => `still running at the timeout\n  step output (tail):\n${host.output()}`,
        );
        details.push(`workflow execution: ${await Promise.race([execution, still])}`);
      }
      if (reloader) {
        const executed = (await reloader.metrics()).matchAll(
          /^reloader_reload_executed_total\{success="(\w+)"\} (\S+)$/gm,
        );
        details.push(
          `Reloader's reload_executed_total: ${[...executed].map((m) => `${m[1]}=${m[2]}`).join(', ')}`,
        );
      }
      if (arm !== 'eso') details.push(`API requests by verb: ${JSON.stringify(requests)}`);
      const writes = arm === 'eso' ? '— (no restarter)' : String(writeCount(requests));
      return { arm, load, figures, writes, details };
    } finally {
      if (reloader) {
        await reloader.stop();
        await annotate(null);
      }
    }
  };

  const rows: ArmRow[] = [];
  for (const [index, arm] of arms.entries()) {
    try {
      rows.push(await runArm(arm, index, tracker));
    } catch (error) {
      failures.push(`${arm}: failed: ${message(error)}`);
      try {
        tracker.end();
      } catch {
        // the rotation had not begun
      }
    }
    try {
      await steady(tracker, current, o.timeout);
    } catch (error) {
      failures.push(`after ${arm}: ${message(error)}; no further arms`);
      break;
    }
  }
  report(rows);
  for (const failure of failures) log(failure);
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  tracker?.stop();
  await orchestrator?.stop();
  await cluster.stop();
  await moto.stop();
}

/** Waits until the arm's rotation is through (or its timeout), then `--settle` seconds more. */
async function watchArm(tracker: RotationTracker, arm: Arm, t0: number, execution: () => string | undefined) {
  const restarts = arm !== 'eso';
  const deadline = t0 + o.timeout * 1000;
  let settleUntil: number | undefined;
  let nextProgress = t0 + 10_000;
  while (performance.now() < deadline) {
    const through =
      arm === 'orchestrator'
        ? execution() !== undefined && (tracker.complete(true) || !execution()?.startsWith('SUCCEEDED'))
        : tracker.complete(restarts);
    if (through && !tracker.busy()) {
      settleUntil ??= performance.now() + o.settle * 1000;
      if (performance.now() >= settleUntil) return;
    } else {
      settleUntil = undefined;
    }
    if (performance.now() >= nextProgress) {
      log(`  ${arm} at ${seconds(t0)}: ${tracker.progress()}`);
      nextProgress += 10_000;
    }
    await sleep(250);
  }
  log(`  ${arm}: timed out after ${o.timeout} s: ${tracker.progress()}`);
}

/** Waits until every rotated Secret holds `value` and every Deployment's rollout is done. */
async function steady(tracker: RotationTracker, value: string, timeoutS: number) {
  const engine = new KubernetesAdapter(admin());
  const deadline = performance.now() + timeoutS * 1000;
  for (;;) {
    const s = tracker.steady('password', value);
    if (
      s.secrets === o.secrets &&
      s.matching === s.secrets &&
      s.consumers === o.consumers &&
      s.done === s.consumers
    ) {
      const namespaces = Array.from({ length: o.namespaces }, (_, n) => namespaceOf(n));
      const rollouts = await mapWithLimit(namespaces, 4, (n) => engine.listRollouts(n, 'Deployment'));
      if (rollouts.every((m) => [...m.values()].every((r) => rolloutState(r).state === 'done'))) return;
    }
    if (performance.now() > deadline) throw new Error(`not steady after ${timeoutS} s: ${JSON.stringify(s)}`);
    await sleep(2000);
  }
}

function admin(): KubeConfig {
  const k = new KubeConfig();
  k.loadFromFile(cluster.kubeconfig);
  return k;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function report(rows: ArmRow[]) {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  log(
    `\n${new Date().toISOString().slice(0, 10)}, commit ${commit}, ${availableParallelism()} cores; ` +
      `${o.consumers} consumers in ${o.namespaces} namespaces, ${o.secrets} Secrets of one AWS secret, ` +
      `${o.bystanders} bystanders; refreshInterval ${o.refreshInterval}${version ? `; Reloader ${version}` : ''}\n`,
  );
  for (const line of comparisonTable(rows)) log(line);
  log(
    `load average at the end (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
}
