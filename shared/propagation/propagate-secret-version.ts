import { z } from 'zod';
import type { SecretsPort } from '../aws/secrets-port';
import { describeError, InvalidEventError, RotationStateError } from '../errors';
import type { ClusterPort } from '../kubernetes/cluster-port';
import { assertManaged } from '../managed-prefixes';
import type { RotationLogger, RotationMetrics } from '../observability';
import { type PropagationReport, propagate } from './propagate';
import type { PropagationConfig } from './propagation-config';
import { planPropagation } from './propagation-plan';

const propagationEventSchema = z.object({
  secretId: z.string().min(1).max(2048),
  /** When given, must be the AWSCURRENT version: an older version is never propagated. */
  versionId: z.string().min(32).max(64).optional(),
  /** A subset of the configured clusters; all of them when absent. */
  clusters: z.array(z.string().min(1)).min(1).optional(),
});

export type PropagationEvent = z.infer<typeof propagationEventSchema>;

export interface PropagationDeps {
  readonly config: PropagationConfig;
  readonly secrets: Pick<SecretsPort, 'describeSecret'>;
  readonly clusterFor: (clusterName: string) => Promise<ClusterPort>;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
}

export interface PropagationResult {
  readonly secretArn: string;
  readonly versionId: string;
  readonly clusters: Record<
    string,
    Omit<PropagationReport, 'timings'> & { timings: PropagationReport['timings'] }
  >;
  readonly outcome: 'succeeded' | 'failed';
}

/**
 * Carries the AWSCURRENT version of a managed secret to every configured cluster: plan, resync,
 * confirm, restart in waves, verify. Refuses malformed events and unmanaged secrets before any
 * call; logs names, versions and counts only.
 */
export async function propagateSecretVersion(
  rawEvent: unknown,
  deps: PropagationDeps,
): Promise<PropagationResult> {
  const started = performance.now();
  try {
    const event = parseEvent(rawEvent);
    assertManaged(event.secretId, deps.config.managedPrefixes);
    const clusters = selectClusters(event, deps.config);
    const secret = await deps.secrets.describeSecret(event.secretId);
    assertManaged(secret.name, deps.config.managedPrefixes);
    const current = Object.entries(secret.versionIdsToStages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    if (!current) throw new RotationStateError(`Secret "${secret.name}" has no AWSCURRENT version`);
    if (event.versionId && event.versionId !== current) {
      throw new RotationStateError(`Version ${event.versionId} of "${secret.name}" is no longer AWSCURRENT`);
    }
    deps.logger.appendKeys({ secretId: secret.arn, versionId: current });
    const reports: PropagationResult['clusters'] = {};
    for (const name of clusters) {
      const cluster = await deps.clusterFor(name);
      const plan = await planPropagation(
        cluster,
        { name: secret.name, arn: secret.arn, tags: secret.tags },
        current,
        {
          requireOptIn: deps.config.requireOptIn,
        },
      );
      const report = await propagate(cluster, plan, {
        concurrency: deps.config.restartConcurrency,
        syncTimeoutMs: deps.config.syncTimeoutMs,
        rolloutTimeoutMs: deps.config.rolloutTimeoutMs,
        pollIntervalMs: 2000,
      });
      reports[name] = report;
      deps.logger.info('propagated to cluster', { cluster: name, ...summarize(report) });
      deps.metrics.addMetric('RestartedWorkloads', 'Count', report.restarted.length);
    }
    const outcome = Object.values(reports).every((r) => r.outcome === 'succeeded') ? 'succeeded' : 'failed';
    deps.metrics.addMetric(
      outcome === 'succeeded' ? 'PropagationSucceeded' : 'PropagationFailed',
      'Count',
      1,
    );
    deps.metrics.addMetric('PropagationDuration', 'Milliseconds', performance.now() - started);
    return { secretArn: secret.arn, versionId: current, clusters: reports, outcome };
  } catch (error) {
    deps.logger.error('propagation failed', { error: describeError(error) });
    deps.metrics.addMetric('PropagationFailed', 'Count', 1);
    throw error;
  }
}

function parseEvent(event: unknown): PropagationEvent {
  const parsed = propagationEventSchema.safeParse(event);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`);
    throw new InvalidEventError(`Malformed propagation event (${fields.join('; ')})`);
  }
  return parsed.data;
}

function selectClusters(event: PropagationEvent, config: PropagationConfig): readonly string[] {
  const unknown = (event.clusters ?? []).filter((name) => !config.clusters.includes(name));
  if (unknown.length > 0) {
    throw new InvalidEventError(
      `Unknown cluster(s) ${unknown.join(', ')}; configured: ${config.clusters.join(', ')}`,
    );
  }
  return event.clusters ?? config.clusters;
}

function summarize(report: PropagationReport) {
  const count = (list: readonly unknown[]) => list.length;
  return {
    outcome: report.outcome,
    synced: count(report.synced),
    syncFailed: report.syncFailed.map((f) => `${f.ref.namespace}/${f.ref.name}`),
    notRefreshing: report.notRefreshing.map((r) => `${r.namespace}/${r.name}`),
    restarted: count(report.restarted),
    alreadyRestarted: count(report.alreadyRestarted),
    rolloutFailed: report.rolloutFailed.map((f) => `${f.ref.kind}/${f.ref.namespace}/${f.ref.name}`),
    notStarted: count(report.notStarted),
    timings: report.timings,
  };
}
