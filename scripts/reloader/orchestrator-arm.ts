import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { BundleHost } from '../../harness/bundle-host';
import { localAwsEnvironment, localClient, localClients } from '../../harness/local-aws';
import type { LocalCluster } from '../../harness/local-cluster';
import { localEksCluster, readLocalEks } from '../../harness/local-eks';
import { createLedgerTable } from '../../harness/local-ledger';
import { synthLocalStack } from '../../harness/local-stack';
import { definitionFromTemplate, type LocalExecution, LocalWorkflow } from '../../harness/local-workflow';
import { LOCAL_AWS } from '../../harness/moto-server';

const RBAC = fileURLToPath(new URL('../../infra/kubernetes/rbac.yaml', import.meta.url));
/** What that identity may change (a ValidatingAdmissionPolicy), applied with it as in a real cluster. */
const ADMISSION_POLICY = fileURLToPath(
  new URL('../../infra/kubernetes/admission-policy.yaml', import.meta.url),
);

export interface OrchestratorArm {
  /** Runs one execution of the deployed workflow for a new version, as the starter would. */
  run(name: string, secretId: string, versionId: string): Promise<LocalExecution>;
  /** The step function's last output, for a failed execution. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The deployed propagation path, prepared the way bench/workflow.ts prepares it and used only
 * through its outside: the stack synthesized for `prefix` and this cluster, the propagation-step
 * bundle warm in its own Node 24 process, the state machine definition from the template run by
 * LocalWorkflow, the orchestrator's RBAC applied, the cluster registered in moto's EKS, a ledger
 * table and an alert topic in moto. `waitMs` shortens every Wait state, as bench/workflow.ts does.
 */
export async function prepareOrchestrator(options: {
  readonly awsEndpoint: string;
  readonly cluster: LocalCluster;
  readonly prefix: string;
  readonly restartConcurrency?: number;
  readonly waitMs?: number;
}): Promise<OrchestratorArm> {
  const { awsEndpoint, cluster } = options;
  execFileSync(
    cluster.kubectl,
    ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', RBAC, '-f', ADMISSION_POLICY],
    {
      stdio: 'ignore',
    },
  );
  const eks = readLocalEks(cluster.stateDir);
  await localEksCluster(awsEndpoint, eks);
  const table = 'bench-reloader-ledger';
  await createLedgerTable(localClients(awsEndpoint).dynamodb, table);
  const sns = localClient(SNSClient, awsEndpoint);
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'bench-reloader-alerts' }))).TopicArn ?? '';
  const local = synthLocalStack({
    managedPrefixes: [options.prefix],
    propagation: {
      clusterNames: [eks.name],
      ...(options.restartConcurrency === undefined ? {} : { restartConcurrency: options.restartConcurrency }),
    },
  });
  const step = local.bundles.step;
  if (!step) throw new Error('the synthesized stack has no propagation-step bundle');
  let tail = '';
  const host = new BundleHost(
    step.directory,
    'propagation-step',
    {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(
        Object.entries(step.environment).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
      ...localAwsEnvironment(awsEndpoint),
      ROTATOR_LEDGER_TABLE: table,
    },
    (chunk) => {
      tail = (tail + chunk).slice(-4000);
    },
  );
  await host.nodeVersion();
  const { definition } = definitionFromTemplate(local.template, ({ logicalId }) =>
    local.template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
      ? topicArn
      : `arn:aws:lambda:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:function:${logicalId}`,
  );
  const workflow = new LocalWorkflow(definition, {
    awsEndpoint,
    invokeLambda: (_arn, payload) => host.invoke(payload),
    ...(options.waitMs === undefined
      ? {}
      : {
          waitOverrides: Object.fromEntries(
            waitStates(definition).map((name) => [name, options.waitMs as number]),
          ),
        }),
  });
  return {
    run: (name, secretId, versionId) =>
      workflow.run(name, { secretId, versionId, trigger: 'event', actor: 'bench' }),
    output: () => tail,
    stop: () => host.stop(),
  };
}

/** Names of the Wait states anywhere in a definition (Map iterations and Parallel branches too). */
function waitStates(definition: unknown): string[] {
  if (typeof definition !== 'object' || definition === null) return [];
  const names: string[] = [];
  for (const [key, value] of Object.entries(definition)) {
    if (key === 'States' && typeof value === 'object' && value !== null) {
      for (const [name, state] of Object.entries(value)) {
        if ((state as { Type?: unknown }).Type === 'Wait') names.push(name);
      }
    }
    names.push(...waitStates(value));
  }
  return names;
}
