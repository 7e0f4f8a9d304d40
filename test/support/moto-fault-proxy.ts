import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The page moto's server (werkzeug) answers with when a request raises inside a backend. */
const WERKZEUG_500_PAGE = `<!doctype html>
<html lang=en>
<title>500 Internal Server Error</title>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>
`;

/** One request as the proxy sees it: the operation (X-Amz-Target, e.g. secretsmanager.CreateSecret) and body. */
export interface ProxiedRequest {
  readonly target: string;
  readonly body: string;
}

export interface MotoFaultProxy {
  readonly endpoint: string;
  /** Requests answered with the 500 page so far. */
  readonly failed: number;
  /** The most requests that were in flight at once. */
  readonly maxInFlight: number;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of moto that answers the requests `fail` picks as moto answers one that
 * raised in its Secrets Manager backend (HTTP 500, werkzeug's HTML page), without passing them on:
 * the race between concurrent CreateSecret calls raises before the secret is stored. Everything
 * else goes to moto. Deterministic, unlike the race, whose rate depends on the machine's load.
 * @example const proxy = await startMotoFaultProxy(inject('motoEndpoint'), ({ target }) => target.endsWith('.CreateSecret'));
 */
export async function startMotoFaultProxy(
  motoEndpoint: string,
  fail: (request: ProxiedRequest) => boolean,
): Promise<MotoFaultProxy> {
  const counts = { failed: 0, inFlight: 0, maxInFlight: 0 };
  const server = createServer(async (request, response) => {
    counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
    try {
      const body = await readBody(request);
      if (fail({ target: String(request.headers['x-amz-target'] ?? ''), body })) {
        counts.failed++;
        response.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end(WERKZEUG_500_PAGE);
        return;
      }
      const answer = await fetch(new URL(request.url ?? '/', motoEndpoint), {
        method: request.method,
        headers: forwardedHeaders(request),
        body: body || undefined,
      });
      const headers = Object.fromEntries(
        [...answer.headers].filter(([name]) => !['content-length', 'transfer-encoding'].includes(name)),
      );
      response.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      response.writeHead(502).end(String(error));
    } finally {
      counts.inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get failed() {
      return counts.failed;
    },
    get maxInFlight() {
      return counts.maxInFlight;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function forwardedHeaders(request: IncomingMessage): Record<string, string> {
  const skipped = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'expect']);
  return Object.fromEntries(
    Object.entries(request.headers)
      .filter(([name, value]) => !skipped.has(name) && typeof value === 'string')
      .map(([name, value]) => [name, value as string]),
  );
}
