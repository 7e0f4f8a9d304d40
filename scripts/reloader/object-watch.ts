import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubernetesTransport } from '../../shared/kubernetes/kubernetes-transport';

/** The fields of a watched object that this module reads. */
export interface WatchedObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/**
 * A collection kept current in memory: listed once, then watched from the list's resourceVersion.
 * A watch that ends (client-node closes one after 30 s without data) resumes from the last
 * resourceVersion seen; a 410 Gone lists again. `onChange` gets every object as it arrives, with
 * the time it arrived, so timings come from events rather than from polling.
 * @example const deployments = await ObjectWatch.start(admin, transport, '/apis/apps/v1/deployments', 'role=consumer', onChange)
 */
export class ObjectWatch<T extends WatchedObject> {
  readonly objects = new Map<string, T>();
  private resourceVersion = '';
  private controller: AbortController | undefined;
  private stopped = false;

  private constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly transport: KubernetesTransport,
    private readonly path: string,
    private readonly labelSelector: string,
    private readonly onChange: (key: string, object: T, at: number) => void,
  ) {}

  static async start<T extends WatchedObject>(
    kubeConfig: KubeConfig,
    transport: KubernetesTransport,
    path: string,
    labelSelector: string,
    onChange: (key: string, object: T, at: number) => void = () => {},
  ): Promise<ObjectWatch<T>> {
    const watch = new ObjectWatch<T>(kubeConfig, transport, path, labelSelector, onChange);
    await watch.list();
    await watch.watch();
    return watch;
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async list(): Promise<void> {
    const query = new URLSearchParams({ labelSelector: this.labelSelector });
    const response = await this.transport.send({
      method: 'GET',
      path: `${this.path}?${query}`,
      headers: { Accept: 'application/json' },
    });
    if (response.status !== 200) throw new Error(`GET ${this.path}: HTTP ${response.status}`);
    const list = JSON.parse(response.text) as { metadata: { resourceVersion: string }; items: T[] };
    const at = performance.now();
    for (const item of list.items) this.update(item, at);
    this.resourceVersion = list.metadata.resourceVersion;
  }

  private update(object: T, at: number): void {
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    this.objects.set(key, object);
    this.onChange(key, object, at);
  }

  private async watch(): Promise<void> {
    let gone = false;
    this.controller = await new Watch(this.kubeConfig).watch(
      this.path,
      { labelSelector: this.labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (type, object: T & { code?: number }) => {
        if (type === 'ERROR') {
          gone = object.code === 410;
          return;
        }
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.update(object, performance.now());
        if (type === 'DELETED') this.objects.delete(`${object.metadata?.namespace}/${object.metadata?.name}`);
      },
      (error: unknown) => {
        // A closed connection resumes at once; a failed one (or 410 Gone) after a pause.
        setTimeout(() => this.resume(gone), error || gone ? 500 : 0);
      },
    );
  }

  private resume(relist: boolean): void {
    if (this.stopped) return;
    (relist ? this.list() : Promise.resolve())
      .then(() => this.watch())
      .catch(() => setTimeout(() => this.resume(true), 1000));
  }
}
