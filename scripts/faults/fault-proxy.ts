/**
 * A small HTTP fault proxy in front of moto for status-code faults, which toxiproxy (TCP level)
 * cannot produce. It keys on the AWS JSON protocol's `X-Amz-Target` header (for example
 * `secretsmanager.PutSecretValue`, `DynamoDB_20120810.PutItem`) and answers the requests a rule
 * picks as AWS would under throttling or an outage, without passing them on:
 * - `throttle`: 400 `{"__type":"ThrottlingException"}` (the SDK's standard strategy retries it),
 * - `500`: 500 `{"__type":"InternalServiceError"}` (Secrets Manager's 5xx),
 * - `503`: 503 `{"__type":"ServiceUnavailable"}`.
 * It can also serve stale reads (fault row M): a GetSecretValue for AWSCURRENT of a named secret
 * is sent to moto as one for AWSPREVIOUS, so the caller gets the previous version's value, as from
 * a cache or a lagging read, a set number of times.
 * Everything else goes to moto unchanged. Decisions come from a seeded generator, so a run with the
 * same seed and the same request order makes the same decisions. node:http only, no dependency.
 * @example const proxy = await startFaultProxy(motoEndpoint, { seed: 7 }); proxy.setRules([{ target: /^secretsmanager\./, rate: 0.3, fault: 'throttle' }]);
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AwsFault = 'throttle' | '500' | '503';

export interface FaultRule {
  /** The X-Amz-Target values the rule applies to. */
  readonly target: RegExp;
  /** The share of matching requests answered with the fault, 0 to 1. */
  readonly rate: number;
  readonly fault: AwsFault;
}

/**
 * A stale read: the next `times` GetSecretValue calls for `secretId` that ask for AWSCURRENT (no
 * VersionId, VersionStage AWSCURRENT or none) are answered with AWSPREVIOUS's version; later calls
 * pass unchanged.
 */
export interface StaleRead {
  /** The SecretId exactly as the caller sends it (ESO sends the ExternalSecret's remoteRef key). */
  readonly secretId: string;
  readonly times: number;
}

/** The user agent a test's own client adds (SDK `customUserAgent`), so the proxy can tell its calls from the product's. */
export const TEST_CALLER_AGENT = 'fault-matrix-caller';

/** One request the proxy saw: its target, whether (and how) it was failed, and whether a test sent it. */
export interface ProxyLogEntry {
  readonly target: string;
  readonly fault?: AwsFault;
  /** Sent by a test's own client (its user agent names {@link TEST_CALLER_AGENT}), not by the product. */
  readonly caller?: true;
  /** A GetSecretValue answered with AWSPREVIOUS instead of AWSCURRENT (a {@link StaleRead}). */
  readonly stale?: true;
}

/** A request moto has answered, before the answer goes back to the caller. */
export interface AnsweredCall {
  readonly target: string;
  /**
   * The request's body (the AWS JSON protocol's parameters), with `SecretString` and
   * `SecretBinary` replaced by "[redacted]": a hook that logs a call must not leak a value.
   */
  readonly body: string;
  /** moto's HTTP status. */
  readonly status: number;
}

/**
 * Awaited after moto answered a request and before the proxy passes the answer on: the call has
 * taken effect, and its caller does not know it yet (fault row Q kills the step's host here).
 */
export type AnsweredHook = (call: AnsweredCall) => Promise<void> | void;

export interface FaultProxy {
  readonly endpoint: string;
  /** Replaces the rules (none: every request passes). */
  setRules(rules: readonly FaultRule[]): void;
  /** Replaces the stale reads still to serve (none: every GetSecretValue passes unchanged). */
  setStaleReads(reads: readonly StaleRead[]): void;
  /** Replaces the hook on answered requests (none: answers go straight back). */
  setAnsweredHook(hook: AnsweredHook | undefined): void;
  /** Every request seen so far, in order. */
  readonly log: readonly ProxyLogEntry[];
  /** Requests answered with a fault so far, by target. */
  faultsByTarget(): Record<string, number>;
  stop(): Promise<void>;
}

const ANSWERS: Record<AwsFault, { status: number; type: string; message: string }> = {
  throttle: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  '500': { status: 500, type: 'InternalServiceError', message: 'Internal service error (injected)' },
  '503': { status: 503, type: 'ServiceUnavailable', message: 'Service unavailable (injected)' },
};

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(
  upstream: string,
  options: { readonly seed: number; readonly rules?: readonly FaultRule[] },
): Promise<FaultProxy> {
  const random = seededRandom(options.seed);
  let rules: readonly FaultRule[] = options.rules ?? [];
  let answered: AnsweredHook | undefined;
  let staleReads: { readonly secretId: string; left: number }[] = [];
  /** The request's body asking for AWSPREVIOUS instead, when a stale read is due for it. */
  function staleRequest(target: string, body: Buffer): Buffer | undefined {
    if (target !== 'secretsmanager.GetSecretValue') return undefined;
    let asked: { SecretId?: string; VersionId?: string; VersionStage?: string };
    try {
      asked = JSON.parse(body.toString('utf8'));
    } catch {
      return undefined;
    }
    if (asked.VersionId || (asked.VersionStage ?? 'AWSCURRENT') !== 'AWSCURRENT') return undefined;
    const due = staleReads.find((r) => r.secretId === asked.SecretId && r.left > 0);
    if (!due) return undefined;
    due.left--;
    // moto does not check request signatures, so the rewritten body passes as the caller's.
    return Buffer.from(JSON.stringify({ SecretId: asked.SecretId, VersionStage: 'AWSPREVIOUS' }));
  }
  const log: ProxyLogEntry[] = [];
  const server = createServer(async (request, response) => {
    try {
      const target = String(request.headers['x-amz-target'] ?? '');
      const agents = `${request.headers['user-agent'] ?? ''} ${request.headers['x-amz-user-agent'] ?? ''}`;
      const caller = agents.includes(TEST_CALLER_AGENT) ? ({ caller: true } as const) : {};
      const body = await readBody(request);
      // One draw per matching rule, in order, so decisions follow the request order and the seed;
      // the first rule whose draw hits answers.
      const rule = target ? rules.find((r) => r.target.test(target) && random() < r.rate) : undefined;
      if (rule) {
        log.push({ target, fault: rule.fault, ...caller });
        const answer = ANSWERS[rule.fault];
        response
          .writeHead(answer.status, {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-errortype': answer.type,
            'x-amzn-requestid': `fault-${log.length}`,
          })
          .end(JSON.stringify({ __type: answer.type, message: answer.message }));
        return;
      }
      const stale = staleRequest(target, body);
      log.push({ target, ...(stale ? { stale: true as const } : {}), ...caller });
      const answer = await fetch(new URL(request.url ?? '/', upstream), {
        method: request.method,
        headers: forwardedHeaders(request),
        body: stale ?? (body.length > 0 ? body : undefined),
      });
      const headers = Object.fromEntries(
        [...answer.headers].filter(
          ([name]) => !['content-length', 'transfer-encoding', 'content-encoding'].includes(name),
        ),
      );
      const payload = Buffer.from(await answer.arrayBuffer());
      await answered?.({ target, body: redactedBody(body), status: answer.status });
      // The caller may be gone (the hook killed it): nothing to answer.
      if (request.socket.destroyed) return;
      response.writeHead(answer.status, headers).end(payload);
    } catch (error) {
      if (!response.headersSent) response.writeHead(502);
      response.end(String((error as Error).name));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRules(next) {
      rules = next;
    },
    setStaleReads(reads) {
      staleReads = reads.map((r) => ({ secretId: r.secretId, left: r.times }));
    },
    setAnsweredHook(hook) {
      answered = hook;
    },
    log,
    faultsByTarget() {
      const counts: Record<string, number> = {};
      for (const entry of log) if (entry.fault) counts[entry.target] = (counts[entry.target] ?? 0) + 1;
      return counts;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forwardedHeaders(request: IncomingMessage): Record<string, string> {
  const skipped = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'expect']);
  return Object.fromEntries(
    Object.entries(request.headers)
      .filter(([name, value]) => !skipped.has(name) && typeof value === 'string')
      .map(([name, value]) => [name, value as string]),
  );
}

/** A request body with its secret values replaced, for hooks (see {@link AnsweredCall}). */
export function redactedBody(body: Buffer): string {
  const text = body.toString('utf8');
  if (!text.includes('"SecretString"') && !text.includes('"SecretBinary"')) return text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['SecretString', 'SecretBinary']) if (key in parsed) parsed[key] = '[redacted]';
    return JSON.stringify(parsed);
  } catch {
    return '[a body with a secret value, not JSON]';
  }
}
