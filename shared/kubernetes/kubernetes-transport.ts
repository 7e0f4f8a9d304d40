import type { Dispatcher } from 'undici';

/** One request to an API server: a path under the server (query included), headers and a body. */
export interface ApiRequest {
  readonly method: 'GET' | 'PATCH';
  /** Starts with `/apis/` or `/api/`; the server's own path prefix, if any, is the transport's to add. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** The API server's answer: the HTTP status, the body as text, and the one header we read. */
export interface ApiResponse {
  readonly status: number;
  readonly text: string;
  /** The `Retry-After` header (seconds or an HTTP date), sent with 429 and some 503 answers. */
  readonly retryAfter?: string;
}

/**
 * How requests reach one cluster's API server: authenticated, over TLS verified against the
 * cluster's CA, through one connection pool. Two implementations: bearer-token-transport.ts (EKS,
 * the propagation step) and kubeconfig-transport.ts (kubeconfig files: the CLI, tests, tools).
 */
export interface KubernetesTransport {
  send(request: ApiRequest): Promise<ApiResponse>;
}

/** A server URL split for undici: its origin, and its path prefix without a trailing slash. */
export interface ApiServer {
  readonly origin: string;
  readonly prefix: string;
}

export function apiServer(server: string): ApiServer {
  const url = new URL(server);
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') };
}

/**
 * How long one API request may take: the response's headers within 15 s of sending, and no more
 * than 15 s between two chunks of its body (undici's defaults are 300 s each). A black-holed API
 * server then fails a call in seconds, as a retryable network error, instead of holding the
 * step until Lambda's own timeout (review M1).
 */
export const API_REQUEST_TIMEOUTS = { headersTimeout: 15_000, bodyTimeout: 15_000 } as const;
/** Time to establish a TCP + TLS connection to the API server. */
export const API_CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long the bearer-token transport (the propagation step's) keeps an idle connection to the API
 * server for the next request. undici's default
 * (4 s, when the server sends no Keep-Alive hint, and kube-apiserver sends none) closed the
 * connections of a wave of restart PATCHes whenever the pause before the next wave passed 4 s (the
 * restart step looks at the rollouts every 1–5 s, up to 30 s when configured, and the state machine
 * waits between its calls), so that wave opened its connections and TLS sessions again: measured
 * on the local cluster with waves about 5 s apart, waves of 25 PATCHes took a median of 303 ms
 * with 4 s, 124 ms with this (22 new connections in 8 waves instead of 200). kube-apiserver keeps
 * an idle connection 90 s (k8s.io/apiserver secure_serving.go, as Go's http.DefaultTransport on the
 * client side); 60 s stays below it, so the server is not closing one just as a request goes out
 * on it.
 */
export const API_KEEP_ALIVE_MS = 60_000;

/** Sends one request through an undici dispatcher and reads the whole body. */
export async function sendThrough(
  dispatcher: Dispatcher,
  server: ApiServer,
  request: ApiRequest,
): Promise<ApiResponse> {
  const { statusCode, headers, body } = await dispatcher.request({
    origin: server.origin,
    path: `${server.prefix}${request.path}`,
    method: request.method,
    headers: request.headers,
    body: request.body,
    ...API_REQUEST_TIMEOUTS,
  });
  const text = await body.text();
  const retryAfter = headers['retry-after'];
  return typeof retryAfter === 'string'
    ? { status: statusCode, text, retryAfter }
    : { status: statusCode, text };
}
