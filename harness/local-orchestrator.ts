/**
 * The whole orchestrator running locally on the embedded default: moto for AWS, the local cluster
 * with ESO, and the synthesized stack's real artifacts (each bundle warm in its own Node 24 process,
 * the state machine's definition run by aws-local-stepfunctions). It plays the parts AWS plays in a
 * deployment: Secrets Manager invoking the rotation function's four steps, EventBridge applying a
 * rule's input transformer and invoking its target, Step Functions running the execution the
 * starter started, and EventBridge Scheduler invoking the sweep.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbLedger } from '../shared/ledger/dynamodb-ledger';
import type { StartPropagationResult } from '../shared/workflow/start-propagation';
import { BundleHost } from './bundle-host';
import { localAwsEnvironment, localClient, localClients } from './local-aws';
import type { LocalCluster } from './local-cluster';
import { localEksCluster } from './local-eks';
import { createLedgerTable } from './local-ledger';
import { synthLocalStack } from './local-stack';
import { definitionFromTemplate, type LocalExecution, LocalWorkflow } from './local-workflow';
import { LOCAL_AWS, useAwsRotationSemantics } from './moto-server';

const SHIFTED_CLOCK = join(dirname(fileURLToPath(import.meta.url)), 'shifted-clock.mjs');
const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export interface LocalOrchestratorOptions {
  readonly motoEndpoint: string;
  /** The EKS name the stack is configured with; the cluster itself is attached when it is up. */
  readonly eksName: string;
  readonly managedPrefixes: readonly string[];
  readonly restartConcurrency: number;
  /** Receives the functions' own log lines (JSON). */
  readonly onFunctionLog?: (line: string) => void;
  readonly onState?: (name: string) => void;
  /**
   * The database rotation function, as cdk.json's `databaseRotation` configures it: the definition
   * gets its RevokePrevious state, and the workflow's invocations of its ARN (and
   * `runRotationSteps` with that ARN) go to its bundle, started on first use in a process of its
   * own with `env` over its environment (e.g. NODE_EXTRA_CA_CERTS for a local database's CA, which
   * must exist by then).
   * @default none: no database function; every Lambda task is the propagation step
   */
  readonly databaseRotation?: {
    readonly tlsByDefault?: boolean;
    readonly env?: Readonly<Record<string, string>>;
  };
}

type Template = ReturnType<typeof synthLocalStack>['template'];

export async function startLocalOrchestrator(options: LocalOrchestratorOptions) {
  const { motoEndpoint } = options;
  const clients = localClients(motoEndpoint);
  await useAwsRotationSemantics(motoEndpoint);
  const tableName = `rotation-ledger-${randomUUID().slice(0, 8)}`;
  await createLedgerTable(clients.dynamodb, tableName);
  const topicArn =
    (await localClient(SNSClient, motoEndpoint).send(new CreateTopicCommand({ Name: 'rotation-alerts' })))
      .TopicArn ?? '';

  const local = synthLocalStack({
    managedPrefixes: [...options.managedPrefixes],
    propagation: { clusterNames: [options.eksName], restartConcurrency: options.restartConcurrency },
    ...(options.databaseRotation
      ? { databaseRotation: databaseRotationConfig(options.databaseRotation) }
      : {}),
  });
  const arnOf = (logicalId: string) =>
    local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
      ? topicArn
      : `arn:aws:lambda:${LOCAL_AWS.region}:123456789012:function:${logicalId}`;
  const { definition } = definitionFromTemplate(local.template, ({ logicalId }) => arnOf(logicalId));
  const stateMachineArn =
    (
      await localClient(SFNClient, motoEndpoint).send(
        new CreateStateMachineCommand({
          name: 'propagation',
          definition: JSON.stringify(definition),
          roleArn: 'arn:aws:iam::123456789012:role/propagation-workflow',
        }),
      )
    ).stateMachineArn ?? '';

  const deployed = {
    ...localAwsEnvironment(motoEndpoint),
    ROTATOR_LEDGER_TABLE: tableName,
    ROTATOR_STATE_MACHINE_ARN: stateMachineArn,
    POWERTOOLS_METRICS_DISABLED: 'true',
    ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '1',
  };
  const hosts: BundleHost[] = [];
  const host = (name: keyof typeof local.bundles, extra: Record<string, string> = {}) => {
    const bundle = local.bundles[name];
    if (!bundle) throw new Error(`the stack has no ${name} function`);
    const environment = { PATH: process.env.PATH ?? '', ...bundle.environment, ...deployed, ...extra };
    const created = new BundleHost(bundle.directory, name, environment, (chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) options.onFunctionLog?.(line);
    });
    hosts.push(created);
    return created;
  };
  const rotate = host('rotate');
  const starter = host('starter');
  const step = host('step');
  const rotationFunctionArn = arnOf(local.bundles.rotate?.logicalId ?? 'rotate');
  const databaseBundle = options.databaseRotation ? local.bundles.rotateDatabase : undefined;
  if (options.databaseRotation && !databaseBundle)
    throw new Error('the stack has no rotateDatabase function');
  const databaseFunctionArn = databaseBundle && arnOf(databaseBundle.logicalId);
  let database: BundleHost | undefined;
  /** The database function's bundle, started on first use (its `env` may name files made meanwhile). */
  const databaseHost = () => {
    database ??= host('rotateDatabase', { ...options.databaseRotation?.env });
    return database;
  };
  const workflow = new LocalWorkflow(definition, {
    awsEndpoint: motoEndpoint,
    invokeLambda: (arn, payload) =>
      arn === databaseFunctionArn ? databaseHost().invoke(payload) : step.invoke(payload),
    waitOverrides: { WaitForSync: 1000, WaitForRollouts: 1000 },
    onState: (name) => options.onState?.(name),
  });

  return {
    clients,
    tableName,
    stateMachineArn,
    rotationFunctionArn,
    /** The database rotation function's ARN, with `databaseRotation`; else undefined. */
    databaseFunctionArn,
    ledger: new DynamoDbLedger(clients.dynamodb, tableName),

    /**
     * Registers the running cluster as EKS cluster `eksName` in local AWS, so DescribeCluster answers
     * with its endpoint and CA, as in AWS. Everything else works before: synthesis, the rotation's
     * four steps, the sweep.
     */
    async attachCluster(cluster: Pick<LocalCluster, 'server' | 'caFile'>) {
      await localEksCluster(motoEndpoint, { name: options.eksName, ...cluster });
    },

    /** EventBridge Scheduler's part: one sweep run, with its clock `clockOffsetMs` ahead. */
    async runSweep(clockOffsetMs = 0): Promise<unknown> {
      const sweep = host('sweep', {
        NODE_OPTIONS: `--enable-source-maps --import ${SHIFTED_CLOCK}`,
        ROTATOR_TEST_CLOCK_OFFSET_MS: String(clockOffsetMs),
      });
      try {
        return await sweep.invoke({});
      } finally {
        await sweep.stop();
      }
    },

    /**
     * Secrets Manager's part after RotateSecret: the four steps of the secret's rotation function
     * (`functionArn`: the generated secrets' function unless the database function's ARN), in order.
     */
    async runRotationSteps(
      secretArn: string,
      versionId: string,
      onStep: (step: string, outcome: string) => void,
      functionArn = rotationFunctionArn,
    ) {
      if (functionArn !== rotationFunctionArn && functionArn !== databaseFunctionArn) {
        throw new Error(`no local function ${functionArn}`);
      }
      const rotation = functionArn === rotationFunctionArn ? rotate : databaseHost();
      for (const stepName of ROTATION_STEPS) {
        const result = (await rotation.invoke({
          Step: stepName,
          SecretId: secretArn,
          ClientRequestToken: versionId,
        })) as {
          outcome?: string;
        };
        onStep(stepName, result?.outcome ?? 'done');
      }
    },

    /**
     * EventBridge's part: apply the synthesized rule's input transformer to an event and invoke
     * the rule's target (the starter); then Step Functions' part: run the execution it started.
     */
    async deliver(
      ruleIdPrefix: string,
      event: object,
    ): Promise<{ started: StartPropagationResult; execution?: LocalExecution }> {
      const input = transformEvent(local.template, ruleIdPrefix, event);
      const started = (await starter.invoke(input)) as StartPropagationResult;
      // moto keeps every execution RUNNING, so it answers a repeated name as AWS answers a running
      // one (idempotently); AWS refuses a finished one, which is what a second run here would be.
      if (started.ignored !== undefined) return { started };
      if (started.alreadyStarted || workflow.hasRun(started.executionName))
        return { started: { ...started, alreadyStarted: true } };
      return { started, execution: await workflow.run(started.executionName, started.input) };
    },

    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
}

export type LocalOrchestrator = Awaited<ReturnType<typeof startLocalOrchestrator>>;

/** cdk.json's `databaseRotation` for the local stack: no VPC, no master ARNs (nothing enforces IAM locally). */
function databaseRotationConfig({ tlsByDefault }: { readonly tlsByDefault?: boolean }) {
  return tlsByDefault === undefined ? {} : { tlsByDefault };
}

/** What EventBridge hands a rule's target: the InputTransformer of the rule's first target applied. */
export function transformEvent(template: Template, ruleIdPrefix: string, event: object): unknown {
  const rule = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith(ruleIdPrefix),
  )?.[1] as
    | {
        Properties: {
          Targets: { InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string } }[];
        };
      }
    | undefined;
  const transformer = rule?.Properties.Targets[0]?.InputTransformer;
  if (!transformer) throw new Error(`no rule ${ruleIdPrefix}… with an input transformer in the template`);
  const values = Object.fromEntries(
    Object.entries(transformer.InputPathsMap).map(([name, path]) => [
      name,
      path
        .replace(/^\$\./, '')
        .split('.')
        .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], event),
    ]),
  );
  return JSON.parse(
    transformer.InputTemplate.replace(/<([\w-]+)>/g, (_m, name: string) =>
      JSON.stringify(values[name] ?? null),
    ),
  );
}
