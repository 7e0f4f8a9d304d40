import type { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesTransport } from '../../shared/kubernetes/kubernetes-transport';
import { type RolloutObservation, rolloutState } from '../../shared/propagation/rollout-status';
import { ObjectWatch, type WatchedObject } from './object-watch';

interface DeploymentObject extends WatchedObject {
  readonly metadata?: WatchedObject['metadata'] & { readonly generation?: number };
  readonly spec?: { readonly replicas?: number; readonly template?: unknown };
  readonly status?: RolloutObservation['status'];
}
interface SecretObject extends WatchedObject {
  readonly data?: Record<string, string>;
}

/**
 * What one rotation did to one consumer. A restart is a change of the pod template: a Deployment's
 * generation also moves when only its annotations change (Reloader's opt-in, for one).
 */
interface ConsumerRun {
  template: string;
  restarts: number;
  /** The restart whose rollout was last seen done, and when. */
  doneRestart: number;
  doneAt?: number;
  inFlight: boolean;
}

/** One arm's figures, times in seconds from the new AWSCURRENT. */
export interface RotationFigures {
  readonly secrets: number;
  readonly secretsUpdated: number;
  readonly firstSecretS?: number;
  readonly lastSecretS?: number;
  readonly consumers: number;
  readonly restartsMin: number;
  readonly restartsMax: number;
  /** Consumers whose pod template never changed. */
  readonly missed: number;
  /** Consumers restarted whose last rollout was not done at the end. */
  readonly notDone: number;
  readonly lastRolloutS?: number;
  readonly peakInFlight: number;
}

/**
 * Watches the consumer Deployments and the Secrets that ESO writes, and measures one rotation at a
 * time: when each Secret holds the new value, how often each Deployment's pod template changed, when
 * each rollout was done (kubectl's rules, shared/propagation/rollout-status.ts), and how many
 * rollouts were in flight at once (sampled every 500 ms).
 */
export class RotationTracker {
  private run: { t0: number; value: string; key: string; consumers: Map<string, ConsumerRun> } | undefined;
  private readonly updatedAt = new Map<string, number>();
  private peak = 0;
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    private readonly deployments: ObjectWatch<DeploymentObject>,
    private readonly secrets: ObjectWatch<SecretObject>,
    private readonly isTrackedSecret: (key: string) => boolean,
  ) {}

  /**
   * @param consumerSelector label selector of the consumer Deployments
   * @param isTrackedSecret which Secrets (by `namespace/name`) carry the rotated value
   */
  static async start(
    kubeConfig: KubeConfig,
    transport: KubernetesTransport,
    consumerSelector: string,
    isTrackedSecret: (key: string) => boolean,
  ): Promise<RotationTracker> {
    let tracker: RotationTracker | undefined;
    const deployments = await ObjectWatch.start<DeploymentObject>(
      kubeConfig,
      transport,
      '/apis/apps/v1/deployments',
      consumerSelector,
      (key, object, at) => tracker?.onDeployment(key, object, at),
    );
    const secrets = await ObjectWatch.start<SecretObject>(
      kubeConfig,
      transport,
      '/api/v1/secrets',
      '',
      (key, object, at) => tracker?.onSecret(key, object, at),
    );
    tracker = new RotationTracker(deployments, secrets, isTrackedSecret);
    return tracker;
  }

  /** Tracked Secrets whose `key` decodes to `value`, and consumers whose rollout is done. */
  steady(key: string, value: string): { secrets: number; matching: number; consumers: number; done: number } {
    const tracked = [...this.secrets.objects].filter(([k]) => this.isTrackedSecret(k));
    const consumers = [...this.deployments.objects.values()];
    return {
      secrets: tracked.length,
      matching: tracked.filter(([, s]) => decode(s, key) === value).length,
      consumers: consumers.length,
      done: consumers.filter((d) => rolloutState(observation(d)).state === 'done').length,
    };
  }

  /** Starts measuring a rotation to `value` (of data key `key`) that became AWSCURRENT at `t0`. */
  begin(t0: number, key: string, value: string): void {
    const consumers = new Map<string, ConsumerRun>();
    for (const [name, d] of this.deployments.objects) {
      consumers.set(name, {
        template: JSON.stringify(d.spec?.template),
        restarts: 0,
        doneRestart: 0,
        inFlight: false,
      });
    }
    this.updatedAt.clear();
    this.peak = 0;
    this.run = { t0, value, key, consumers };
    for (const [name, s] of this.secrets.objects) this.onSecret(name, s, performance.now());
    this.sampler = setInterval(() => {
      const inFlight = [...consumers.values()].filter((c) => c.inFlight).length;
      this.peak = Math.max(this.peak, inFlight);
    }, 500);
  }

  /** Whether every tracked Secret holds the new value and, if `restarts`, every consumer rolled out anew. */
  complete(restarts: boolean): boolean {
    if (!this.run) return false;
    const secrets = [...this.secrets.objects.keys()].filter((k) => this.isTrackedSecret(k));
    if (secrets.some((k) => !this.updatedAt.has(k))) return false;
    if (!restarts) return true;
    return [...this.run.consumers.values()].every((c) => c.restarts > 0 && !c.inFlight);
  }

  /** Whether any consumer's rollout is in flight now. */
  busy(): boolean {
    return [...(this.run?.consumers.values() ?? [])].some((c) => c.inFlight);
  }

  /** One line on the rotation so far. */
  progress(): string {
    const consumers = [...(this.run?.consumers.values() ?? [])];
    const restarted = consumers.filter((c) => c.restarts > 0).length;
    const inFlight = consumers.filter((c) => c.inFlight).length;
    return `Secrets updated ${this.updatedAt.size}, consumers restarted ${restarted}/${consumers.length}, in flight ${inFlight}`;
  }

  /** Stops measuring and returns the figures. */
  end(): RotationFigures {
    const run = this.run;
    if (!run) throw new Error('no rotation is being measured');
    clearInterval(this.sampler);
    this.run = undefined;
    const s = (at: number) => (at - run.t0) / 1000;
    const updated = [...this.updatedAt.values()];
    const consumers = [...run.consumers.values()];
    const restarts = consumers.map((c) => c.restarts);
    const restarted = consumers.filter((c) => c.restarts > 0);
    const done = restarted
      .filter((c) => !c.inFlight && c.doneAt !== undefined)
      .map((c) => c.doneAt as number);
    return {
      secrets: [...this.secrets.objects.keys()].filter((k) => this.isTrackedSecret(k)).length,
      secretsUpdated: updated.length,
      firstSecretS: updated.length ? s(Math.min(...updated)) : undefined,
      lastSecretS: updated.length ? s(Math.max(...updated)) : undefined,
      consumers: consumers.length,
      restartsMin: Math.min(...restarts),
      restartsMax: Math.max(...restarts),
      missed: consumers.length - restarted.length,
      notDone: restarted.length - done.length,
      lastRolloutS: done.length ? s(Math.max(...done)) : undefined,
      peakInFlight: this.peak,
    };
  }

  stop(): void {
    clearInterval(this.sampler);
    this.deployments.stop();
    this.secrets.stop();
  }

  private onDeployment(name: string, d: DeploymentObject, at: number): void {
    const c = this.run?.consumers.get(name);
    if (!c) return;
    const template = JSON.stringify(d.spec?.template);
    if (template !== c.template) {
      c.template = template;
      c.restarts++;
    }
    if (c.restarts === 0) return;
    const state = rolloutState(observation(d)).state;
    c.inFlight = state !== 'done';
    if (state === 'done' && c.doneRestart !== c.restarts) {
      c.doneRestart = c.restarts;
      c.doneAt = at;
    }
  }

  private onSecret(name: string, s: SecretObject, at: number): void {
    const run = this.run;
    if (!run || !this.isTrackedSecret(name) || this.updatedAt.has(name)) return;
    if (decode(s, run.key) === run.value) this.updatedAt.set(name, at);
  }
}

function decode(secret: SecretObject, key: string): string | undefined {
  const data = secret.data?.[key];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

function observation(d: DeploymentObject): RolloutObservation {
  return {
    kind: 'Deployment',
    generation: d.metadata?.generation ?? 0,
    spec: { replicas: d.spec?.replicas },
    status: d.status ?? {},
  };
}
