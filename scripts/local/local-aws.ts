import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LOCAL_AWS } from './moto-server';

/**
 * SDK clients pointed at a local moto endpoint. The endpoint is passed explicitly: production code
 * builds its clients without one and never reads a local override.
 */
export function localClients(endpoint: string) {
  const config = { endpoint, region: LOCAL_AWS.region, credentials: LOCAL_AWS.credentials, maxAttempts: 2 };
  return {
    secretsManager: new SecretsManagerClient(config),
    lambda: new LambdaClient(config),
    iam: new IAMClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

export type LocalClients = ReturnType<typeof localClients>;

/** Environment for a child process that runs a bundled handler against moto. */
export function localAwsEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_AWS.region,
    AWS_DEFAULT_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL: endpoint,
  };
}
