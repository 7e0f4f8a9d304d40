/**
 * The propagation workflow's steps (claim, plan, resync, check-sync, advance-restarts,
 * finish-cluster, record, record-failure, retire-previous), one short invocation per Task state.
 * Wiring only; the logic is in shared/workflow/.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { logFailureOnce } from '../../shared/log-failure-once';
import { memoizeSuccess } from '../../shared/memoize-success';
import { createLogger, createMetrics } from '../../shared/observability';
import { secretsManagerReplicas } from '../../shared/propagation/replica-port';
import { runWorkflowStep } from '../../shared/workflow/run-workflow-step';
import { loadWorkflowConfig } from '../../shared/workflow/workflow-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadWorkflowConfig(process.env);

// The EKS and Kubernetes clients load with the first step that reaches a cluster: claim, record and
// the other ledger steps never evaluate them on a cold start. A failed load is retried by the next.
// A cluster with a role of its own (ROTATOR_CLUSTER_ACCESS) is reached with that role's credentials;
// STS's client loads only when such a cluster is first reached.
const clusterPorts = memoizeSuccess(async () => {
  const { EKSClient, eksClusterPorts, stsAssumeRole } = await import(
    '../../shared/kubernetes/eks-cluster-ports'
  );
  return eksClusterPorts(new EKSClient(AWS_CLIENT_OPTIONS), undefined, {
    access: config.clusterAccess,
    assumeRole: stsAssumeRole(AWS_CLIENT_OPTIONS),
    eksClient: (region, credentials) => new EKSClient({ ...AWS_CLIENT_OPTIONS, region, credentials }),
  });
});

const deps = {
  ...config,
  secrets: new SecretsManagerAdapter(new SecretsManagerClient(AWS_CLIENT_OPTIONS)),
  ledger: new DynamoDbLedger(new DynamoDBClient(AWS_CLIENT_OPTIONS), config.ledgerTableName),
  clusterFor: async (name: string) => (await clusterPorts())(name),
  // DescribeSecret in the secret's region and its replicas' (one client per region, on first use).
  replicas: secretsManagerReplicas(AWS_CLIENT_OPTIONS),
  logger,
  metrics,
  now: () => new Date(),
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(logFailureOnce(logger, 'workflow step failed'))
  .handler((event: unknown) => runWorkflowStep(event, deps));
