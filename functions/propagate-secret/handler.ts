/**
 * Propagation function: carries the AWSCURRENT version of a managed secret through every configured
 * EKS cluster (resync ExternalSecrets, confirm, restart consumers in waves, verify). Wiring only;
 * the logic is in shared/propagation/propagate-secret-version.ts.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { eksClusterConnector } from '../../shared/kubernetes/eks-cluster';
import { EksTokenCache } from '../../shared/kubernetes/eks-token';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import { propagateSecretVersion } from '../../shared/propagation/propagate-secret-version';
import { loadPropagationConfig } from '../../shared/propagation/propagation-config';

const logger = createLogger();
const metrics = createMetrics();
const config = loadPropagationConfig(process.env);
const eks = new EKSClient({});
const tokens = new EksTokenCache(process.env.AWS_REGION ?? '', eks.config.credentials);
const connect = eksClusterConnector(eks, (name) => tokens.tokenFor(name));

const deps = {
  config,
  secrets: new SecretsManagerAdapter(new SecretsManagerClient({})),
  clusterFor: async (name: string) => new KubernetesAdapter(await connect(name)),
  logger,
  metrics,
};

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler((event: unknown) => propagateSecretVersion(event, deps));
