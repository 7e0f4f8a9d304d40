import type { KubeConfig } from '@kubernetes/client-node';
// Deep imports, not the package index: the index evaluates every module of the client (watch, exec,
// cp, informers, websockets) and the generated API classes pull in the ObjectSerializer with all
// ~900 model classes (about 450 KiB of the propagation step's bundle). These four are all we need.
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** A kind of object under /apis: a custom resource, or a built-in one such as apps/v1 deployments. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** One page of a list, as the API server returns it (`metadata.continue` names the next page). */
export interface RawList<T> {
  readonly items: T[];
  readonly metadata?: { readonly continue?: string };
}

export interface ListPage {
  /** Omitted: the list is cluster-wide. */
  readonly namespace?: string;
  readonly limit?: number;
  readonly continue?: string;
}

const USER_AGENT = 'secret-rotation-orchestrator';
const ACCEPT_JSON = 'application/json, */*;q=0.8';
const MERGE_PATCH = 'application/merge-patch+json';

/**
 * The calls the adapter makes on /apis objects (list, get, merge-patch), as plain JSON, through
 * @kubernetes/client-node's own transport: the KubeConfig authenticates each request (bearer token,
 * exec plugin or client certificate) and sets TLS to the cluster CA; the client's fetch sends it.
 * Errors are the client's `ApiException` (numeric `code`, the response text as `body`), as the
 * generated API classes throw them.
 *
 * All requests share one connection pool. The KubeConfig builds a new undici Agent every time it
 * authenticates a request, so without this each call would open a new TLS connection: on 1,500
 * calls that cost seconds of CPU here and in the API server (bench/propagation.ts).
 * @example await new CustomObjectsClient(kubeConfig).get({ group: 'apps', version: 'v1', plural: 'deployments' }, 'web', 'default')
 */
export class CustomObjectsClient {
  private readonly server: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private shared: Dispatcher | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('The kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  list<T>(type: ResourceType, page: ListPage = {}): Promise<RawList<T>> {
    const query: Record<string, string | undefined> = {
      limit: page.limit === undefined ? undefined : String(page.limit),
      continue: page.continue || undefined,
    };
    return this.send('GET', resourcePath(type, page.namespace), query) as Promise<RawList<T>>;
  }

  get(type: ResourceType, name: string, namespace?: string): Promise<unknown> {
    return this.send('GET', resourcePath(type, namespace, name), {});
  }

  /** A JSON merge patch (RFC 7386), written under `fieldManager`. */
  mergePatch(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    patch: object,
    fieldManager: string,
  ): Promise<unknown> {
    return this.send('PATCH', resourcePath(type, namespace, name), { fieldManager }, patch);
  }

  private async send(
    method: 'GET' | 'PATCH',
    path: string,
    query: Record<string, string | undefined>,
    body?: object,
  ): Promise<unknown> {
    const request = new RequestContext(`${this.server}${path}`, method);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) request.setQueryParam(name, value);
    }
    request.setHeaderParam('Accept', ACCEPT_JSON);
    request.setHeaderParam('User-Agent', USER_AGENT);
    if (body !== undefined) {
      request.setHeaderParam('Content-Type', MERGE_PATCH);
      request.setBody(JSON.stringify(body));
    }
    await this.kubeConfig.applySecurityAuthentication(request);
    this.reuseConnections(request);
    const response = await this.http.send(request).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, 'Kubernetes API error', text, response.headers);
    }
    return text === '' ? undefined : JSON.parse(text);
  }

  private reuseConnections(request: RequestContext): void {
    const created = request.getDispatcher();
    if (created && this.shared && created !== this.shared) {
      request.setDispatcher(this.shared);
      void created.close();
    } else if (created) {
      this.shared = created;
    }
  }
}

function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const segments = [type.group, type.version];
  if (namespace !== undefined) segments.push('namespaces', namespace);
  segments.push(type.plural);
  if (name !== undefined) segments.push(name);
  return `/apis/${segments.map(encodeURIComponent).join('/')}`;
}
