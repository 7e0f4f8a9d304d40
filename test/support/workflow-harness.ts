import { randomUUID } from 'node:crypto';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { BundleHost, LambdaContainers } from '../../harness/bundle-host';
import type { BundledFunction } from '../../harness/bundled-function';
import { awsExternalSecret, awsSecretStore, localAwsCredentialsSecret } from '../../harness/eso-manifests';
import { localAwsEnvironment } from '../../harness/local-aws';
import {
  applyManifests,
  type LocalCluster,
  ORCHESTRATOR_MANIFESTS,
  startCluster,
} from '../../harness/local-cluster';
import { type LocalEks, localEksCluster, readLocalEks } from '../../harness/local-eks';
import { createLedgerTable } from '../../harness/local-ledger';
import { synthLocalStack } from '../../harness/local-stack';
import { definitionFromTemplate, type LocalExecution, LocalWorkflow } from '../../harness/local-workflow';
import { LOCAL_AWS } from '../../harness/moto-server';
import { createSecret } from '../../harness/rotation-fixture';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { rolloutState } from '../../shared/propagation/rollout-status';
import type { RolloutKind } from '../../shared/propagation/workload-types';
import { clusterFixture, kubeConfigFrom } from './cluster-fixture';
import { findLeakedValues } from './output-capture';

export interface WorkflowHarnessOptions {
  /** The deployment's `propagation.restartConcurrency`. @default 1 */
  readonly restartConcurrency?: number;
  /** The deployment's `propagation.emergencyRestartConcurrency`. @default the deployment's default */
  readonly emergencyRestartConcurrency?: number;
  /** The deployment's `propagation.requireOptIn`. @default the deployment's default */
  readonly requireOptIn?: boolean;
  /** Environment of the step bundle, over the synthesized one and the local defaults below. */
  readonly env?: Readonly<Record<string, string>>;
  /** Wait state durations in milliseconds. @default 500 ms for WaitForSync and WaitForRollouts */
  readonly waitOverrides?: Readonly<Record<string, number>>;
  /**
   * Clusters the deployment lists after the global one, each from {@link localClusterBeside}
   * (called before `workflowHarness`, so its cluster is up when the harness starts).
   * @default none
   */
  readonly extraClusters?: readonly ClusterBeside[];
  /**
   * The database rotation function (`databaseRotation` configured): the definition gets its
   * RevokePrevious state, and invocations of the function's ARN go to its bundle, warm in a process
   * of its own with `env` over its synthesized environment (e.g. NODE_EXTRA_CA_CERTS for a local
   * database's CA). Its output joins `hostOutput`. See `databaseFunction` for its ARN and invoke.
   * @default none: no databaseRotation, every Lambda task is the propagation step
   */
  readonly databaseRotation?: { readonly env?: Readonly<Record<string, string>> };
  /**
   * Awaited before each Lambda task's invocation, with the function's ARN and the payload: a test
   * looks at the world as it is at that moment of the execution. @default none
   */
  readonly beforeInvoke?: (functionArn: string, payload: unknown) => Promise<void> | void;
}

/** kubectl's restart annotation on a pod template, which every restart writes. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** What the step bundle gets beyond its synthesized environment, so failures show within a test. */
const LOCAL_STEP_ENV = {
  ROTATOR_SYNC_TIMEOUT_SECONDS: '60',
  ROTATOR_ROLLOUT_TIMEOUT_SECONDS: '60',
  ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '1',
};

const debug = (what: string) => process.env.WF_DEBUG && process.stderr.write(`[wf] ${what}\n`);

/**
 * The deployed propagation path, run locally: the synthesized state machine definition executed by
 * aws-local-stepfunctions, every Lambda Task bound to the bundled propagation-step artifact (its own
 * Node 24 process, production code path: DescribeCluster and EKS token against moto, the real local
 * cluster and ESO, the ledger in moto's DynamoDB) and the Alert task publishing to moto's SNS, whose
 * topic feeds an SQS queue the test reads. Call it at the top of a test file: it registers its own
 * beforeAll (start) and afterAll (stop).
 * @example const wf = workflowHarness({ restartConcurrency: 2 });
 */
export function workflowHarness(options: WorkflowHarnessOptions = {}) {
  const fx = clusterFixture();
  const motoEndpoint = inject('motoEndpoint');
  const clusterName = inject('eksClusterName');
  const prefix = `wf/${randomUUID().slice(0, 6)}/`;
  const table = `ledger-${randomUUID().slice(0, 8)}`;
  const clientConfig = {
    endpoint: motoEndpoint,
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
  };
  const ledger = new DynamoDbLedger(fx.aws.dynamodb, table);
  const sqs = new SQSClient(clientConfig);
  const values: string[] = [];
  let host: LambdaContainers | undefined;
  let databaseFunction: { readonly arn: string; readonly host: BundleHost } | undefined;
  let workflow: LocalWorkflow | undefined;
  let hostOutput = '';
  let alertQueueUrl: string | undefined;

  /** An SNS topic delivering to a fresh SQS queue; returns the topic's ARN. */
  async function alertTopic(): Promise<string> {
    const sns = new SNSClient(clientConfig);
    const suffix = randomUUID().slice(0, 8);
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: `alerts-${suffix}` })))
      .TopicArn as string;
    alertQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${suffix}` })))
      .QueueUrl as string;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn as string;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
    return topicArn;
  }

  async function start(): Promise<void> {
    debug('start');
    await localEksCluster(motoEndpoint, {
      name: clusterName,
      server: inject('clusterServer'),
      caFile: inject('clusterCaFile'),
    });
    for (const extra of options.extraClusters ?? []) await localEksCluster(motoEndpoint, extra.eks());
    await createLedgerTable(fx.aws.dynamodb, table);
    const topicArn = await alertTopic();
    debug('aws');
    const { restartConcurrency = 1, emergencyRestartConcurrency, requireOptIn } = options;
    const local = synthLocalStack({
      managedPrefixes: [prefix],
      propagation: {
        clusterNames: [clusterName, ...(options.extraClusters ?? []).map((c) => c.name)],
        restartConcurrency,
        ...(emergencyRestartConcurrency === undefined ? {} : { emergencyRestartConcurrency }),
        ...(requireOptIn === undefined ? {} : { requireOptIn }),
      },
      ...(options.databaseRotation ? { databaseRotation: {} } : {}),
    });
    debug('synth');
    const step = local.bundles.step;
    if (!step) throw new Error('no propagation-step bundle');
    const synthesized = Object.entries(step.environment).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    );
    const stepEnv = {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(synthesized),
      ...localAwsEnvironment(motoEndpoint),
      ROTATOR_LEDGER_TABLE: table,
      ...LOCAL_STEP_ENV,
      ...options.env,
    };
    // A host that dies is replaced at the next invocation, with the same bundle and environment.
    host = new LambdaContainers(
      () =>
        new BundleHost(step.directory, 'propagation-step', stepEnv, (chunk) => {
          hostOutput += chunk;
        }),
    );
    expect(await host.nodeVersion()).toMatch(/^v24\./);
    debug('host');
    const stepArn = `arn:aws:lambda:us-east-1:123456789012:function:${step.logicalId}`;
    if (options.databaseRotation)
      databaseFunction = await startDatabaseFunction(local.bundles.rotateDatabase);
    const { definition } = definitionFromTemplate(local.template, ({ logicalId }) =>
      local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
        ? topicArn
        : `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`,
    );
    const bundle = host;
    workflow = new LocalWorkflow(definition, {
      awsEndpoint: motoEndpoint,
      invokeLambda: async (arn, payload) => {
        await options.beforeInvoke?.(arn, payload);
        if (databaseFunction && arn === databaseFunction.arn) return databaseFunction.host.invoke(payload);
        expect(arn).toBe(stepArn);
        return bundle.invoke(payload);
      },
      waitOverrides: { WaitForSync: 500, WaitForRollouts: 500, ...options.waitOverrides },
    });
  }

  /** The bundled database rotation function in its own process, with the local AWS and `databaseRotation.env`. */
  async function startDatabaseFunction(bundle: BundledFunction | undefined) {
    if (!bundle) throw new Error('no rotate-database-secret bundle');
    const databaseHost = new BundleHost(
      bundle.directory,
      'rotate-database-secret',
      {
        PATH: process.env.PATH ?? '',
        ...bundle.environment,
        ...localAwsEnvironment(motoEndpoint),
        ...options.databaseRotation?.env,
      },
      (chunk) => {
        hostOutput += chunk;
      },
    );
    expect(await databaseHost.nodeVersion()).toMatch(/^v24\./);
    return { arn: `arn:aws:lambda:us-east-1:123456789012:function:${bundle.logicalId}`, host: databaseHost };
  }

  async function stop(): Promise<void> {
    await host?.stop();
    await databaseFunction?.host.stop();
  }

  beforeAll(start, 180_000);
  afterAll(stop);

  /** A new secret value: JSON with a fresh string under each key, each remembered for the leak check. */
  function value(keys: readonly string[] = ['password']): string {
    const fields = keys.map((key) => {
      const v = `wf-value-${randomUUID()}`;
      values.push(v);
      return [key, v] as const;
    });
    return JSON.stringify(Object.fromEntries(fields));
  }

  return {
    fx,
    ledger,
    /** The ledger's DynamoDB table, for a function a test runs against the same ledger. */
    ledgerTable: table,
    prefix,
    clusterName,
    /** Every secret value handed out by `value()`, oldest first. */
    values: values as readonly string[],
    value,
    /** Creates `${prefix}${name}` in Secrets Manager with a fresh value (see `value`); returns its id. */
    async secret(name: string, keys?: readonly string[]): Promise<string> {
      const secretId = `${prefix}${name}`;
      await createSecret(fx.aws, secretId, value(keys));
      return secretId;
    },
    /** Puts a fresh value (see `value`) as AWSCURRENT; returns the new version id. */
    async rotate(secretId: string, keys?: readonly string[]): Promise<string> {
      const out = await fx.aws.secretsManager.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: value(keys) }),
      );
      return out.VersionId as string;
    },
    /** One execution of the workflow to its end, as the starter would begin it. */
    run(name: string, secretId: string, versionId: string, extra: object = {}): Promise<LocalExecution> {
      if (!workflow) throw new Error('workflowHarness: run() before start');
      return workflow.run(name, { secretId, versionId, trigger: 'event', actor: 'test', ...extra });
    },
    /** ESO's force-sync annotation on an ExternalSecret: how the workflow asks for a resync. */
    async forceSync(namespace: string, name: string): Promise<string | undefined> {
      const es = (await fx.admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'external-secrets.io',
        version: 'v1',
        namespace,
        plural: 'externalsecrets',
        name,
      })) as { metadata: { annotations?: Record<string, string> } };
      return es.metadata.annotations?.['external-secrets.io/force-sync'];
    },
    /** The generation and pod template annotations of a Deployment, StatefulSet, DaemonSet or Argo Rollout. */
    async podTemplate(namespace: string, name: string, kind: RolloutKind = 'Deployment') {
      const apps = fx.admin.makeApiClient(AppsV1Api);
      const custom = fx.admin.makeApiClient(CustomObjectsApi);
      const read = {
        Deployment: () => apps.readNamespacedDeployment({ namespace, name }),
        StatefulSet: () => apps.readNamespacedStatefulSet({ namespace, name }),
        DaemonSet: () => apps.readNamespacedDaemonSet({ namespace, name }),
        Rollout: async () =>
          (await custom.getNamespacedCustomObject({
            group: 'argoproj.io',
            version: 'v1alpha1',
            namespace,
            plural: 'rollouts',
            name,
          })) as {
            metadata?: { generation?: number };
            spec?: { template: { metadata?: { annotations?: Record<string, string> } } };
          },
      }[kind];
      const w = await read();
      return {
        generation: w.metadata?.generation,
        annotations: w.spec?.template.metadata?.annotations ?? {},
      };
    },
    /** An ExternalSecret `db` for `secretId` and the given Deployments consuming its Secret via envFrom. */
    async consumers(secretId: string, names: string[], failing: string[] = []): Promise<string> {
      const namespace = await fx.namespaceWithStore('wf');
      await fx.externalSecret(namespace, 'db', secretId);
      await fx.externalSecretReady(namespace, 'db');
      await fx.consumingDeployments(namespace, 'db-secret', names, failing);
      return namespace;
    },
    /** The newest propagation the ledger holds for `secretId`, and its (only) cluster's outcome. */
    async propagation(secretId: string) {
      const entry = (await ledger.history(secretId)).find((e) => e.kind === 'propagation');
      if (entry?.kind !== 'propagation') throw new Error(`no propagation of ${secretId} in the ledger`);
      const cluster = entry.clusters?.[0];
      return {
        entry,
        synced: cluster?.synced ?? [],
        restarted: cluster?.restarted ?? [],
        failed: cluster?.failed ?? [],
      };
    },
    /** Alerts published since the last call (up to 10), as SNS delivered them to the queue. */
    async alertsReceived(): Promise<{ Subject?: string; Message: string }[]> {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: alertQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
    },
    /**
     * The database rotation function (with `databaseRotation`, after start): its ARN as the
     * definition names it, and an invocation of its bundle, as Secrets Manager or the workflow makes.
     */
    databaseFunction() {
      if (!databaseFunction) throw new Error('workflowHarness: no databaseRotation, or used before start');
      const { arn, host: databaseHost } = databaseFunction;
      return { arn, invoke: (event: unknown) => databaseHost.invoke(event) };
    },
    /**
     * The step function's host (after start): `crash()` SIGKILLs it mid-invocation (the invocation
     * fails with Lambda.Unknown; the next one gets a new host), `started` counts hosts started.
     */
    stepHost(): Pick<LambdaContainers, 'crash' | 'started'> {
      if (!host) throw new Error('workflowHarness: stepHost() before start');
      return host;
    },
    /** Everything the step bundle (and the database function) wrote to stdout and stderr so far. */
    hostOutput: () => hostOutput,
    /** Secret values from `value()` that appear in the steps' output (expected: none). */
    leakedValues: () => findLeakedValues(hostOutput, values),
    start,
    stop,
  };
}

export type WorkflowHarness = ReturnType<typeof workflowHarness>;

/**
 * A second local cluster for one test file, beside the global one: its own control plane, kwok
 * nodes, ESO (reading the same moto) and EKS token webhook for EKS name `name`, mapping the same
 * identity as the global one; the RBAC manifest and admission policy applied. Registers its own
 * beforeAll (start, about 20–40 s) and afterAll (stop). Pass it to `workflowHarness` in
 * `extraClusters` (call this first). Its helpers act as the cluster's admin, like `clusterFixture`.
 * @example const b = localClusterBeside('local-b'); const wf = workflowHarness({ extraClusters: [b] });
 */
export function localClusterBeside(name: string) {
  let cluster: LocalCluster | undefined;
  let eks: LocalEks | undefined;
  const started = () => {
    if (!cluster) throw new Error(`localClusterBeside(${name}): used before its beforeAll`);
    return cluster;
  };
  const admin = () => kubeConfigFrom(started().kubeconfig);

  beforeAll(async () => {
    cluster = await startCluster({ awsEndpoint: inject('motoEndpoint'), eksClusterName: name });
    applyManifests(cluster, ORCHESTRATOR_MANIFESTS);
    eks = readLocalEks(cluster.stateDir);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} in ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  return {
    name,
    /** The cluster as EKS presents it (after beforeAll). */
    eks: (): LocalEks => {
      if (!eks) throw new Error(`localClusterBeside(${name}): used before its beforeAll`);
      return eks;
    },
    cluster: started,
    /**
     * As the harness's `consumers`, in this cluster: a namespace with a SecretStore, ExternalSecret
     * `db` for `secretId` synced, and Deployments reading `db-secret` rolled out (those in `failing`
     * fail their rollout after a restart). Returns the namespace.
     */
    async consumers(secretId: string, names: readonly string[], failing: readonly string[] = []) {
      const objects = KubernetesObjectApi.makeApiClient(admin());
      const create = (o: object) => objects.create(o as never);
      const namespace = `wf-${randomUUID().slice(0, 6)}`;
      await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      await create(localAwsCredentialsSecret(namespace));
      await create(awsSecretStore(namespace));
      await create(awsExternalSecret(namespace, 'db', secretId));
      const custom = admin().makeApiClient(CustomObjectsApi);
      await eventually(`ExternalSecret ${namespace}/db to sync`, async () => {
        const es = (await custom.getNamespacedCustomObject({
          group: 'external-secrets.io',
          version: 'v1',
          namespace,
          plural: 'externalsecrets',
          name: 'db',
        })) as { status?: { conditions?: { type: string; status: string }[] } };
        return es.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') || undefined;
      });
      for (const workload of names) {
        const fails = failing.includes(workload);
        const labels = { app: workload, ...(fails ? { 'rotator.test/fail-on-restart': 'true' } : {}) };
        await create({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: workload, namespace },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: workload } },
            ...(fails ? { progressDeadlineSeconds: 5 } : {}),
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  { name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: 'db-secret' } }] },
                ],
              },
            },
          },
        });
      }
      const adapter = new KubernetesAdapter(kubeConfigFrom(started().rotatorKubeconfig));
      for (const workload of names) {
        await eventually(`Deployment ${namespace}/${workload} to roll out`, async () =>
          rolloutState(await adapter.getRollout({ kind: 'Deployment', namespace, name: workload })).state ===
          'done'
            ? true
            : undefined,
        );
      }
      return namespace;
    },
    /** The generation and pod template annotations of a Deployment in this cluster. */
    async podTemplate(namespace: string, workload: string) {
      const w = await admin()
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ namespace, name: workload });
      return {
        generation: w.metadata?.generation,
        annotations: w.spec?.template.metadata?.annotations ?? {},
      };
    },
    /** A key of a Kubernetes Secret in this cluster, decoded. */
    async secretValue(namespace: string, secret: string, key: string): Promise<string | undefined> {
      const read = await admin().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: secret });
      const data = read.data?.[key];
      return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
    },
  };
}

export type ClusterBeside = ReturnType<typeof localClusterBeside>;
