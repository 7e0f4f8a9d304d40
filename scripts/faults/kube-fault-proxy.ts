/**
 * A small HTTPS fault proxy in front of the kube-apiserver for status-code faults, which toxiproxy
 * (TCP level, TLS passed through) cannot produce. It terminates TLS with a certificate for
 * 127.0.0.1 signed by the cluster's own CA (scripts/cluster/up.sh keeps its key beside ca.crt), so
 * a client that trusts the cluster CA (DescribeCluster's certificateAuthority) trusts the proxy;
 * registered in moto as the EKS cluster's endpoint, the steps reach it the production way. Each
 * request either gets an answer a rule picks (429 with Retry-After, 5xx, 409, 410, 404, as a Status
 * object) or goes on to the API server unchanged over TLS verified against the cluster CA, its
 * `Authorization` (the EKS token) included. Decisions come from a seeded generator, as in
 * fault-proxy.ts. node:https and openssl only, no dependency.
 * @example const proxy = await startKubeFaultProxy({ upstream: clusterServer, caFile, seed: 1 }); proxy.setRules([{ rate: 0.2, status: 429, retryAfterSeconds: 1 }]);
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { seededRandom } from './fault-proxy';

export type KubeFaultStatus = 404 | 409 | 410 | 429 | 500 | 503;

export interface KubeFaultRule {
  /** The HTTP methods the rule applies to. @default every method */
  readonly methods?: readonly string[];
  /** The request paths (query included) the rule applies to. @default every path */
  readonly path?: RegExp;
  /** The share of matching requests answered with the fault, 0 to 1. */
  readonly rate: number;
  readonly status: KubeFaultStatus;
  /** Sent as `Retry-After` (seconds) with the answer. @default none */
  readonly retryAfterSeconds?: number;
  /**
   * At most this many answers from this rule (counted per rule object, from `setRules` on); then it
   * matches nothing. For a fault that must stay inside, or go just past, a client's retry budget:
   * e.g. 3 × 410 on a list's continue page against the pager's 3 restarts. @default no limit
   */
  readonly times?: number;
}

/** One request the proxy saw, and the status it injected, if any. */
export interface KubeProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly injected?: KubeFaultStatus;
}

/**
 * Awaited once the API server has answered a request (its status line and headers are in), before
 * the proxy passes the answer on: the call has taken effect, and its caller does not know it yet
 * (fault row Q kills the step's host here, after a restart PATCH).
 */
export type KubeAnsweredHook = (call: {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}) => Promise<void> | void;

export interface KubeFaultProxy {
  /** https://127.0.0.1:<port>, to register as the cluster's endpoint. */
  readonly server: string;
  setRules(rules: readonly KubeFaultRule[]): void;
  /** Replaces the hook on answered requests (none: answers go straight back). */
  setAnsweredHook(hook: KubeAnsweredHook | undefined): void;
  readonly log: readonly KubeProxyLogEntry[];
  /** Injected answers so far, by status. */
  injectedByStatus(): Record<string, number>;
  stop(): Promise<void>;
}

const REASONS: Record<KubeFaultStatus, string> = {
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** A key and certificate for IP 127.0.0.1 signed by the CA at `caFile` (its key at `ca.key` beside it). */
function serverCertificate(caFile: string, caKeyFile: string): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'kube-fault-proxy-'));
  try {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    openssl(
      ...['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', 'proxy.key', '-out', 'proxy.csr', '-subj', '/CN=kube-fault-proxy'],
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(
      ...['x509', '-req', '-in', 'proxy.csr', '-CA', caFile, '-CAkey', caKeyFile, '-CAcreateserial'],
      ...['-CAserial', join(dir, 'ca.srl'), '-days', '1', '-extfile', 'san.ext', '-out', 'proxy.crt'],
    );
    return { key: readFileSync(join(dir, 'proxy.key')), cert: readFileSync(join(dir, 'proxy.crt')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startKubeFaultProxy(options: {
  /** The API server's URL (https). */
  readonly upstream: string;
  /** The cluster CA's certificate; its key is read from `ca.key` beside it unless given. */
  readonly caFile: string;
  readonly caKeyFile?: string;
  readonly seed: number;
}): Promise<KubeFaultProxy> {
  const random = seededRandom(options.seed);
  const ca = readFileSync(options.caFile);
  const upstream = new URL(options.upstream);
  const agent = new Agent({ ca, keepAlive: true });
  let rules: readonly KubeFaultRule[] = [];
  /** Answers given by each rule with `times`; a new rule object starts from 0. */
  const answers = new WeakMap<KubeFaultRule, number>();
  let answered: KubeAnsweredHook | undefined;
  const log: KubeProxyLogEntry[] = [];
  const server = createServer(
    serverCertificate(options.caFile, options.caKeyFile ?? join(dirname(options.caFile), 'ca.key')),
    (request, response) => {
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      const rule = rules.find(
        (r) =>
          (r.times === undefined || (answers.get(r) ?? 0) < r.times) &&
          (!r.methods || r.methods.includes(method)) &&
          (!r.path || r.path.test(path)) &&
          random() < r.rate,
      );
      if (rule) {
        answers.set(rule, (answers.get(rule) ?? 0) + 1);
        log.push({ method, path, injected: rule.status });
        request.resume();
        const reason = REASONS[rule.status];
        response
          .writeHead(rule.status, {
            'content-type': 'application/json',
            ...(rule.retryAfterSeconds === undefined
              ? {}
              : { 'retry-after': String(rule.retryAfterSeconds) }),
          })
          .end(
            JSON.stringify({
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              code: rule.status,
              reason,
              message: `${reason} (injected)`,
            }),
          );
        return;
      }
      log.push({ method, path });
      const headers = { ...request.headers, host: upstream.host };
      delete headers.connection;
      const forwarded = httpsRequest(
        { agent, hostname: upstream.hostname, port: upstream.port, method, path, headers },
        async (answer) => {
          const status = answer.statusCode ?? 502;
          try {
            await answered?.({ method, path, status });
          } catch {
            // A failing hook is the test's problem; the answer still goes back.
          }
          // The caller may be gone (the hook killed it): drain the answer, keep the connection.
          if (request.socket.destroyed) {
            answer.resume();
            return;
          }
          response.writeHead(status, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server: `https://127.0.0.1:${port}`,
    setRules(next) {
      rules = next;
    },
    setAnsweredHook(hook) {
      answered = hook;
    },
    log,
    injectedByStatus() {
      const counts: Record<string, number> = {};
      for (const entry of log) if (entry.injected) counts[entry.injected] = (counts[entry.injected] ?? 0) + 1;
      return counts;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
