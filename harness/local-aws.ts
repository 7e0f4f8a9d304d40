import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { MiddlewareStack } from '@smithy/types';
import { reportMotoFailures } from './moto-call-error';
import { LOCAL_AWS } from './moto-server';

/**
 * Attempts per call to moto. moto's backends are not thread-safe: a request that races another
 * (e.g. two CreateSecret, or a lookup while a secret is created) can fail with HTTP 500. The SDK's
 * standard retry mode retries 5xx with jittered exponential backoff (base 100 ms), so 6 attempts
 * wait at most about 6 s in all before giving up.
 */
export const LOCAL_MAX_ATTEMPTS = 6;

/**
 * Configuration for any SDK client talking to moto at `endpoint`. Prefer {@link localClient},
 * which also makes a failed call name its operation and HTTP status.
 */
export function localAwsConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
    maxAttempts: LOCAL_MAX_ATTEMPTS,
    retryMode: 'standard',
  };
}

export type LocalAwsConfig = ReturnType<typeof localAwsConfig>;

/**
 * An SDK client for moto: retries its 5xx answers, and a call that still fails throws a
 * {@link MotoCallError} naming the operation, the HTTP status and the attempts, rather than the
 * SDK's JSON parse error on moto's HTML error page.
 * @example const sns = localClient(SNSClient, moto.endpoint);
 */
export function localClient<I extends object, O extends object, C>(
  Client: new (config: LocalAwsConfig) => C & { middlewareStack: MiddlewareStack<I, O> },
  endpoint: string,
): C {
  const client = new Client(localAwsConfig(endpoint));
  client.middlewareStack.use(reportMotoFailures<I, O>());
  return client;
}

/**
 * SDK clients pointed at a local moto endpoint. The endpoint is passed explicitly: production code
 * builds its clients without one and never reads a local override.
 */
export function localClients(endpoint: string) {
  return {
    secretsManager: localClient(SecretsManagerClient, endpoint),
    lambda: localClient(LambdaClient, endpoint),
    iam: localClient(IAMClient, endpoint),
    dynamodb: localClient(DynamoDBClient, endpoint),
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
