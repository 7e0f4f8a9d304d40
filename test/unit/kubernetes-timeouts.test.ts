/**
 * A black-holed API server (accepts the connection, reads the request, never answers) fails a
 * call within the transport's timeout, as a network error the workflow retries, instead of holding
 * the step until Lambda's timeout (review M1).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRetryable, TransientError } from '../../shared/errors';
import { API_REQUEST_TIMEOUTS, apiServer, sendThrough } from '../../shared/kubernetes/kubernetes-transport';

let server: Server;
let origin: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('Kubernetes request timeouts', () => {
  it(
    'gives up on an API server that never answers after the headers timeout, as a retryable error',
    async () => {
      const started = Date.now();
      const failure = await sendThrough(new Agent(), apiServer(origin), {
        method: 'GET',
        path: '/apis/apps/v1/namespaces/a/deployments',
        headers: {},
      }).catch((error: unknown) => error);
      const took = Date.now() - started;

      expect((failure as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
      expect(took).toBeGreaterThanOrEqual(API_REQUEST_TIMEOUTS.headersTimeout - 1_000);
      expect(took).toBeLessThan(API_REQUEST_TIMEOUTS.headersTimeout + 5_000);
      expect(asRetryable(failure)).toBeInstanceOf(TransientError);
    },
    API_REQUEST_TIMEOUTS.headersTimeout + 15_000,
  );
});
