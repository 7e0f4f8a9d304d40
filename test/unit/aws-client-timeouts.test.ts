/**
 * The functions' SDK clients give up on a black-holed endpoint (accepts the connection, never
 * answers) after their request timeout, with an error the SDK retries, instead of holding the
 * invocation until Lambda's timeout (review M1). One attempt here, so the test waits one timeout.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';

let server: Server;
let endpoint: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const TIMEOUT = AWS_CLIENT_OPTIONS.requestHandler.requestTimeout;

describe('AWS SDK client timeouts', () => {
  it(
    'fail a request the endpoint never answers after the request timeout, as a retryable TimeoutError',
    async () => {
      const client = new SecretsManagerClient({
        ...AWS_CLIENT_OPTIONS,
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        maxAttempts: 1,
      });
      const started = Date.now();

      const failure = await client
        .send(new DescribeSecretCommand({ SecretId: 'prod/app/db' }))
        .catch((e) => e);
      const took = Date.now() - started;

      expect((failure as Error).name).toBe('TimeoutError');
      expect(took).toBeGreaterThanOrEqual(TIMEOUT - 500);
      expect(took).toBeLessThan(TIMEOUT + 5_000);
    },
    TIMEOUT + 15_000,
  );
});
