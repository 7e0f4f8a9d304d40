/**
 * A local HTTPS server standing in for a cluster's API server: a CA of its own (the "cluster CA")
 * signs its certificate for 127.0.0.1, and a second CA signs nothing. The test gives the answers;
 * the server records every request and counts TLS connections.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterEndpoint } from '../../shared/kubernetes/eks-endpoint';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly accept?: string;
  readonly body: string;
}

/** Status, body, and any extra response headers (content-type is application/json). */
export type Answer = readonly [number, string, Record<string, string>?];

export interface HttpsApiServer {
  /** The server as DescribeCluster would describe it: https URL and the base64 PEM of its CA. */
  readonly endpoint: ClusterEndpoint;
  /** Base64 PEM of a CA that did not sign the server's certificate. */
  readonly otherCa: string;
  readonly seen: SeenRequest[];
  tlsConnections(): number;
  close(): Promise<void>;
}

/** A Kubernetes Status object, as the API server sends with every error. */
export const statusBody = (code: number, reason: string, message = '') =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

function createPki(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
  for (const ca of ['cluster-ca', 'other-ca']) {
    openssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`);
  }
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1');
  openssl(
    ...['x509', '-req', '-in', 'server.csr', '-CA', 'cluster-ca.crt', '-CAkey', 'cluster-ca.key'],
    ...['-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.crt'],
  );
}

export async function startHttpsApiServer(
  answer: (method: string, url: URL, request: SeenRequest) => Answer,
): Promise<HttpsApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'https-api-server-'));
  createPki(dir);
  const seen: SeenRequest[] = [];
  let tlsConnections = 0;
  const server = createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
    (request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const recorded: SeenRequest = {
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          accept: request.headers.accept,
          body,
        };
        seen.push(recorded);
        const [code, payload, headers] = answer(
          recorded.method,
          new URL(recorded.url, 'https://x'),
          recorded,
        );
        response.writeHead(code, { 'content-type': 'application/json', ...headers }).end(payload);
      });
    },
  );
  // As kube-apiserver (Go's net/http): no Keep-Alive hint in answers, and idle connections kept
  // (90 s there). Node's default sends `Keep-Alive: timeout=5`, which a client would obey instead
  // of its own idle timeout.
  server.keepAliveTimeout = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {
    tlsConnections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ca = (name: string) => readFileSync(join(dir, `${name}.crt`)).toString('base64');
  return {
    endpoint: {
      name: 'local',
      server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      certificateAuthority: ca('cluster-ca'),
    },
    otherCa: ca('other-ca'),
    seen,
    tlsConnections: () => tlsConnections,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      // Idle connections too: with no idle timeout, nothing else ends them.
      for (const socket of sockets) socket.destroy();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
