/**
 * Benchmark: propagation in the local cluster at scale. 50 namespaces with 20 ExternalSecrets and
 * 100 Deployments each (1,000 and 5,000); one rotation affects 2 ExternalSecrets and 10 Deployments
 * per namespace (100 and 500). Prints the engine's own time for plan + resync + restart, the time
 * spent waiting on ESO and on rollouts separately, and the engine's Kubernetes API requests by verb,
 * counted at the HTTP layer. Unaffected Deployments run 0 replicas and affected ones 1, so kwok
 * simulates 500 pods. Figures only; nothing is asserted. Run: npm run bench:propagation
 */
import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { awsSecretStore, localAwsCredentialsSecret } from '../scripts/local/eso-manifests';
import { localClients } from '../scripts/local/local-aws';
import { startCluster } from '../scripts/local/local-cluster';
import { createSecrets } from '../scripts/local/local-secrets';
import { motoTraceback } from '../scripts/local/moto-call-error';
import { startMoto } from '../scripts/local/moto-server';
import { mapWithLimit } from '../shared/concurrency';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { propagate } from '../shared/propagation/propagate';
import { planPropagation } from '../shared/propagation/propagation-plan';
import { rolloutState } from '../shared/propagation/rollout-status';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 50);
const API_CONCURRENCY = Number(process.env.BENCH_API_CONCURRENCY ?? 32);
const ES_PER_NS = 20;
const HIT_ES_PER_NS = 2;
const DEPLOYMENTS_PER_NS = 100;
const HIT_DEPLOYMENTS_PER_NS = 10;
const RBAC = fileURLToPath(new URL('../infra/kubernetes/rbac.yaml', import.meta.url));
const log = (line: string) => process.stdout.write(`${line}\n`);
const secondsSince = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

/** Counts HTTP requests to the API server by verb and path shape, from the moment it is called. */
function requestCounter() {
  const counts = new Map<string, number>();
  const onCreate = (message: unknown) => {
    const { method, path } = (message as { request: { method: string; path: string } }).request;
    const isList =
      method === 'GET' &&
      /\/(externalsecrets|secretstores|clustersecretstores|deployments|statefulsets|daemonsets)(\?|$)/.test(
        path,
      );
    const verb = isList ? 'LIST' : method;
    counts.set(verb, (counts.get(verb) ?? 0) + 1);
  };
  diagnostics.subscribe('undici:request:create', onCreate);
  return {
    take() {
      const snapshot = Object.fromEntries([...counts].sort());
      counts.clear();
      return snapshot;
    },
  };
}

const moto = await startMoto();
const cluster = await startCluster({
  awsEndpoint: moto.endpoint,
  onLog: (l) => /built|ready/.test(l) && log(l),
});
try {
  execFileSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', RBAC], {
    stdio: 'ignore',
  });
  const admin = new KubeConfig();
  admin.loadFromFile(cluster.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const aws = localClients(moto.endpoint);
  const create = (o: Record<string, unknown>) => objects.create(o as never);

  let t = performance.now();
  const secretNames = ['bench/app/db', ...Array.from({ length: 9 }, (_, i) => `bench/app/other-${i}`)];
  await createSecrets(
    aws.secretsManager,
    secretNames.map((Name) => ({ Name, SecretString: JSON.stringify({ password: `v1-${Name}` }) })),
  );
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i).padStart(2, '0')}`);
  await mapWithLimit(namespaces, 8, async (namespace) => {
    await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await create(localAwsCredentialsSecret(namespace));
    await create(awsSecretStore(namespace));
    for (let e = 0; e < ES_PER_NS; e++) {
      const key = e < HIT_ES_PER_NS ? 'bench/app/db' : secretNames[1 + (e % 9)];
      await create({
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name: `es-${e}`, namespace },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: { name: 'aws' },
          target: { name: `secret-${e}` },
          data: [{ secretKey: 'password', remoteRef: { key, property: 'password' } }],
        },
      });
    }
    for (let d = 0; d < DEPLOYMENTS_PER_NS; d++) {
      const hit = d < HIT_DEPLOYMENTS_PER_NS;
      const secret = `secret-${hit ? d % HIT_ES_PER_NS : HIT_ES_PER_NS + (d % (ES_PER_NS - HIT_ES_PER_NS))}`;
      await create({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `app-${d}`, namespace },
        spec: {
          replicas: hit ? 1 : 0,
          selector: { matchLabels: { app: `app-${d}` } },
          template: {
            metadata: { labels: { app: `app-${d}` } },
            spec: {
              containers: [{ name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: secret } }] }],
            },
          },
        },
      });
    }
  });
  log(
    `set-up: ${NAMESPACES * ES_PER_NS} ExternalSecrets, ${NAMESPACES * DEPLOYMENTS_PER_NS} Deployments in ${NAMESPACES} namespaces (${secondsSince(t)})`,
  );

  const engine = new KubernetesAdapter(
    (() => {
      const k = new KubeConfig();
      k.loadFromFile(cluster.rotatorKubeconfig);
      return k;
    })(),
  );
  t = performance.now();
  for (;;) {
    const all = await engine.listExternalSecrets();
    if (all.filter((es) => es.syncStatus?.ready?.status === 'True').length === all.length) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(`ESO initial sync of all ExternalSecrets: ${secondsSince(t)}`);
  t = performance.now();
  for (const namespace of namespaces) {
    for (;;) {
      const rollouts = [...(await engine.listRollouts(namespace, 'Deployment')).values()];
      if (rollouts.every((r) => rolloutState(r).state === 'done')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  log(`initial rollouts of all Deployments: ${secondsSince(t)}`);

  await aws.secretsManager.send(
    new PutSecretValueCommand({ SecretId: 'bench/app/db', SecretString: JSON.stringify({ password: 'v2' }) }),
  );
  const described = await aws.secretsManager.send(new DescribeSecretCommand({ SecretId: 'bench/app/db' }));
  const versionId =
    Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0] ?? '';
  const counter = requestCounter();

  const cpuBefore = process.cpuUsage();
  t = performance.now();
  const plan = await planPropagation(
    engine,
    { name: 'bench/app/db', arn: described.ARN ?? '', tags: {} },
    versionId,
  );
  const planMs = performance.now() - t;
  const planRequests = counter.take();
  const phaseRequests: Record<string, Record<string, number>> = {};
  const report = await propagate(
    engine,
    plan,
    {
      concurrency: 500,
      apiConcurrency: API_CONCURRENCY,
      syncTimeoutMs: 300_000,
      rolloutTimeoutMs: 600_000,
      pollIntervalMs: 500,
    },
    (event) => {
      if (event.type === 'resync-requested') phaseRequests.resync = counter.take();
      if (event.type === 'wave-started') phaseRequests.confirm = counter.take();
    },
  );
  const cpu = process.cpuUsage(cpuBefore);
  phaseRequests['restart + verify'] = counter.take();
  const affectedEs = plan.resync.length;
  const affectedWorkloads = plan.resync.reduce((n, target) => n + target.consumers.length, 0);
  const engineMs = planMs + report.timings.resyncMs + report.timings.restartMs;
  log(
    `rotation affects ${affectedEs} ExternalSecrets and ${affectedWorkloads} Deployments; outcome ${report.outcome}`,
  );
  log(`  engine time (plan + resync + restart)  ${(engineMs / 1000).toFixed(2)} s`);
  log(
    `    plan                                 ${(planMs / 1000).toFixed(2)} s   requests ${JSON.stringify(planRequests)}`,
  );
  log(
    `    resync (annotate)                    ${(report.timings.resyncMs / 1000).toFixed(2)} s   requests ${JSON.stringify(phaseRequests.resync)}`,
  );
  log(`    restart (patch)                      ${(report.timings.restartMs / 1000).toFixed(2)} s`);
  log(
    `  engine process CPU, whole propagation  ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (the rest of the engine's wall time is waiting on the API server)`,
  );
  log(
    `  waiting on ESO to confirm syncs        ${(report.timings.confirmMs / 1000).toFixed(2)} s   requests ${JSON.stringify(phaseRequests.confirm)}`,
  );
  log(`  waiting on rollouts                    ${(report.timings.verifyMs / 1000).toFixed(2)} s`);
  log(`  restart + verify requests              ${JSON.stringify(phaseRequests['restart + verify'])}`);
} catch (error) {
  const traceback = await motoTraceback(error, moto);
  if (traceback) log(traceback);
  throw error;
} finally {
  await cluster.stop();
  await moto.stop();
}
