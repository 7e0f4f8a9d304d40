/**
 * Kubernetes calls retried inside the step (shared/kubernetes/retrying-transport.ts): 429 and 503
 * wait what Retry-After says (bounded, plus full jitter), and a connection cut mid-answer is sent
 * again for GET and merge PATCH (fault row H: the cut failed the execution). Against a local HTTP
 * server through the real undici transport, so the errors are the ones undici throws.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { CustomObjectsClient } from '../../shared/kubernetes/custom-objects-client';
import {
  apiServer,
  type KubernetesTransport,
  sendThrough,
} from '../../shared/kubernetes/kubernetes-transport';
import { KUBERNETES_RETRY, retryAfterMs, retryDelayMs } from '../../shared/kubernetes/retrying-transport';

const DEPLOYMENTS = { group: 'apps', version: 'v1', plural: 'deployments' };
const NOW = new Date('2026-12-01T10:00:00Z');
const half = () => 0.5;

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;
let handlers: Handler[] = [];
const seen: { method: string; body: string }[] = [];
let server: Server;
let transport: KubernetesTransport;
let agent: Agent;

/** The next requests' answers, in order; the last one repeats. */
function answer(...next: Handler[]) {
  handlers = next;
}

const json = (status: number, body: object, headers: Record<string, string> = {}): Handler => {
  return (_request, _body, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
};
const deployment = json(200, { metadata: { name: 'web' } });
const status = (code: number, reason: string, headers: Record<string, string> = {}) =>
  json(code, { kind: 'Status', code, reason }, headers);
/** Headers and part of the body, then the connection closes: the answer is cut half-way. */
const cutMidBody: Handler = (_request, _body, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
  response.write('{"metadata":{"name":');
  response.socket?.end();
};
/** Headers and part of the body, then a TCP reset. */
const resetMidBody: Handler = (_request, _body, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
  response.write('{"metadata":', () => response.socket?.resetAndDestroy());
};

function client(sleeps: number[]) {
  return new CustomObjectsClient(transport, {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: half,
    now: () => NOW,
  });
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: request.method ?? '', body });
      const handler = handlers.length > 1 ? handlers.shift() : handlers[0];
      handler?.(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
  transport = { send: (request) => sendThrough(agent, apiServer(origin), request) };
});

afterEach(() => {
  seen.length = 0;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('Kubernetes calls against an API server that throttles or cuts connections', () => {
  it('waits what Retry-After says on a 429 (plus jitter), then gets the answer', async () => {
    const sleeps: number[] = [];
    answer(status(429, 'TooManyRequests', { 'retry-after': '1' }), deployment);

    const got = await client(sleeps).get(DEPLOYMENTS, 'web', 'apps');

    expect(got).toEqual({ metadata: { name: 'web' } });
    expect(seen).toHaveLength(2);
    expect(sleeps).toEqual([1_000 + 125]);
  });

  it('retries a 503 with backoff and full jitter when no Retry-After comes with it', async () => {
    const sleeps: number[] = [];
    answer(status(503, 'ServiceUnavailable'), status(503, 'ServiceUnavailable'), deployment);

    await client(sleeps).get(DEPLOYMENTS, 'web', 'apps');

    expect(sleeps).toEqual([125, 250]);
  });

  it('gives a 429 back after four attempts, for the state machine to retry', async () => {
    const sleeps: number[] = [];
    answer(status(429, 'TooManyRequests', { 'retry-after': '1' }));

    const failure = await client(sleeps)
      .get(DEPLOYMENTS, 'web', 'apps')
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(KubernetesCallError);
    expect((failure as KubernetesCallError).httpStatus).toBe(429);
    expect(seen).toHaveLength(KUBERNETES_RETRY.attempts);
    expect(sleeps).toHaveLength(KUBERNETES_RETRY.attempts - 1);
  });

  it('does not wait inside the step for a Retry-After longer than its bound', async () => {
    const sleeps: number[] = [];
    answer(status(429, 'TooManyRequests', { 'retry-after': '30' }), deployment);

    await expect(client(sleeps).get(DEPLOYMENTS, 'web', 'apps')).rejects.toMatchObject({ httpStatus: 429 });
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 500 or a 404 inside the step', async () => {
    for (const [code, reason] of [
      [500, 'InternalError'],
      [404, 'NotFound'],
    ] as const) {
      seen.length = 0;
      answer(status(code, reason), deployment);
      await expect(client([]).get(DEPLOYMENTS, 'web', 'apps')).rejects.toMatchObject({ httpStatus: code });
      expect(seen).toHaveLength(1);
    }
  });

  it.each([
    ['closed', cutMidBody],
    ['reset', resetMidBody],
  ])('reads again when the connection is %s mid-answer', async (_how, cut) => {
    const sleeps: number[] = [];
    answer(cut, json(200, { metadata: {}, items: [{ metadata: { name: 'web' } }] }));

    const got = await client(sleeps).list(DEPLOYMENTS, { namespace: 'apps' });

    expect(got).toEqual({ metadata: {}, items: [{ metadata: { name: 'web' } }] });
    expect(seen.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(sleeps).toHaveLength(1);
  });

  it('sends the same merge patch again when the answer to the first is cut (it may have been applied)', async () => {
    answer(cutMidBody, deployment);
    const patch = {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'x' } } } },
    };

    await client([]).mergePatch(DEPLOYMENTS, 'web', 'apps', patch, 'secret-rotation-orchestrator');

    expect(seen.map((r) => r.method)).toEqual(['PATCH', 'PATCH']);
    expect(seen[1]?.body).toBe(seen[0]?.body);
    expect(JSON.parse(seen[1]?.body ?? '')).toEqual(patch);
  });
});

describe('retryDelayMs', () => {
  const context = { now: NOW, random: half };
  const response = (code: number, retryAfter?: string) => ({
    response: { status: code, text: '', ...(retryAfter === undefined ? {} : { retryAfter }) },
  });
  const error = (code: string) => ({ error: Object.assign(new Error(code), { code }) });

  it.each([
    ['429 with Retry-After 2', 1, response(429, '2'), 'GET', 2_125],
    ['429 with an HTTP date 3 s ahead', 1, response(429, 'Tue, 01 Dec 2026 10:00:03 GMT'), 'GET', 3_125],
    ['429 without Retry-After, third attempt', 3, response(429), 'GET', 500],
    ['503 on a PATCH (nothing was applied)', 1, response(503), 'PATCH', 125],
    ['Retry-After past the bound', 1, response(429, '6'), 'GET', undefined],
    ['the last attempt', KUBERNETES_RETRY.attempts, response(429, '1'), 'GET', undefined],
    ['200', 1, response(200), 'GET', undefined],
    ['409 (the adapter has its own loop)', 1, response(409), 'PATCH', undefined],
    ['500', 1, response(500), 'GET', undefined],
    ['a reset', 1, error('ECONNRESET'), 'GET', 125],
    ['a socket closed mid-answer', 2, error('UND_ERR_SOCKET'), 'PATCH', 250],
    ['a short body', 1, error('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'), 'GET', 125],
    ['a headers timeout (left to the state machine)', 1, error('UND_ERR_HEADERS_TIMEOUT'), 'GET', undefined],
    ['an error without a code', 1, { error: new Error('x') }, 'GET', undefined],
  ] as const)('%s', (_name, attempt, outcome, method, expected) => {
    expect(retryDelayMs(attempt, outcome, method, context)).toBe(expected);
  });

  it('never waits past the bound plus the largest jitter', () => {
    for (let attempt = 1; attempt < KUBERNETES_RETRY.attempts; attempt++) {
      const delay = retryDelayMs(attempt, response(429, '5'), 'GET', { now: NOW, random: () => 0.999 });
      expect(delay).toBeLessThan(KUBERNETES_RETRY.maxRetryAfterMs + KUBERNETES_RETRY.capMs);
    }
  });

  it('reads Retry-After as seconds or an HTTP date, and ignores what it cannot read', () => {
    expect(retryAfterMs('0', NOW)).toBe(0);
    expect(retryAfterMs(' 7 ', NOW)).toBe(7_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 09:59:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
    expect(retryAfterMs(undefined, NOW)).toBeUndefined();
  });
});
