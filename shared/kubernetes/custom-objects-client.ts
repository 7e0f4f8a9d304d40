import { KubernetesCallError, kubernetesCallError } from '../errors';
import type { KubernetesTransport } from './kubernetes-transport';
import { type RetryingOptions, retryingTransport } from './retrying-transport';

/**
 * A kind of object: a custom resource, a built-in one such as apps/v1 deployments, or a core one
 * (group '', served under /api, such as v1 pods).
 */
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
  /** e.g. `status.phase!=Succeeded` (only the fields the API server indexes for the kind). */
  readonly fieldSelector?: string;
  /**
   * The Accept header instead of plain JSON, e.g. metadata only:
   * `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` (no spec, no status).
   */
  readonly accept?: string;
}

/**
 * The Accept header for a list of metadata only: the API server answers a PartialObjectMetadataList
 * (names, owners, labels, annotations, times), never an object's spec or status.
 */
export const METADATA_ONLY_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

const USER_AGENT = 'secret-rotation-orchestrator';
const ACCEPT_JSON = 'application/json, */*;q=0.8';
const MERGE_PATCH = 'application/merge-patch+json';

/**
 * The calls the adapter makes on /apis objects (list, get, merge-patch), as plain JSON, over a
 * {@link KubernetesTransport}. Not @kubernetes/client-node's generated API classes: they run every
 * object through the ObjectSerializer, whose ~900 model classes are most of the client.
 *
 * Every call is retried a few times inside the step when the API server answers 429 or 503
 * (honouring `Retry-After`) or the connection is cut mid-answer (retrying-transport.ts).
 *
 * Errors are {@link KubernetesCallError}s with the HTTP status and the Status object's one-word
 * reason only: the response body and headers never leave this class (they can echo object fields).
 * @example await new CustomObjectsClient(transport).get({ group: 'apps', version: 'v1', plural: 'deployments' }, 'web', 'default')
 */
export class CustomObjectsClient {
  private readonly transport: KubernetesTransport;

  constructor(transport: KubernetesTransport, retry: RetryingOptions = {}) {
    this.transport = retryingTransport(transport, retry);
  }

  async list<T>(type: ResourceType, page: ListPage = {}): Promise<RawList<T>> {
    const query: Record<string, string | undefined> = {
      limit: page.limit === undefined ? undefined : String(page.limit),
      continue: page.continue || undefined,
      fieldSelector: page.fieldSelector,
    };
    const list = (await this.send(
      'GET',
      resourcePath(type, page.namespace),
      query,
      undefined,
      page.accept,
    )) as {
      items?: unknown;
      metadata?: RawList<T>['metadata'];
    };
    // kube-apiserver answers a metadata-only list (PartialObjectMetadataList) of nothing with
    // `"items": null`, where a plain list has `[]`. Anything else without an array of items is not
    // a list, and reading it as an empty one would make a plan that finds nothing to do.
    if (list?.items === null) return { ...list, items: [] };
    if (!Array.isArray(list?.items)) throw new KubernetesCallError(200, 'ResponseNotList');
    return list as RawList<T>;
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
    accept = ACCEPT_JSON,
  ): Promise<unknown> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) search.set(name, value);
    }
    const response = await this.transport.send({
      method,
      path: search.size > 0 ? `${path}?${search}` : path,
      headers: {
        Accept: accept,
        'User-Agent': USER_AGENT,
        ...(body === undefined ? {} : { 'Content-Type': MERGE_PATCH }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status < 200 || response.status > 299) {
      throw kubernetesCallError(response.status, response.text);
    }
    if (response.text === '') return undefined;
    try {
      return JSON.parse(response.text);
    } catch {
      // JSON.parse's message quotes the text around the fault: it could be a workload's env value.
      throw new KubernetesCallError(response.status, 'ResponseNotJSON');
    }
  }
}

function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const segments = type.group === '' ? [type.version] : [type.group, type.version];
  if (namespace !== undefined) segments.push('namespaces', namespace);
  segments.push(type.plural);
  if (name !== undefined) segments.push(name);
  return `/${type.group === '' ? 'api' : 'apis'}/${segments.map(encodeURIComponent).join('/')}`;
}
