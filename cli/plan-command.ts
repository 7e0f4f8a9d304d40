import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import { RotationStateError, sanitizeUpstreamMessage } from '../shared/errors';
import { assertManaged } from '../shared/managed-prefixes';
import { planPropagation } from '../shared/propagation/propagation-plan';
import { replicationOf } from '../shared/propagation/replica-port';
import { describeManagedSecret } from '../shared/secrets/describe-managed';
import { versionWith } from '../shared/secrets/versions';
import { type CliContext, writeLine } from './cli-context';
import { type ClusterSourceOptions, clusterSources } from './cluster-sources';
import { EXIT, type ExitCode } from './exit-codes';
import { type ClusterPlanReport, describePlan, renderPlan } from './plan-report';
import { shortVersion } from './time-format';

export interface PlanCommandOptions extends ClusterSourceOptions {
  readonly requireOptIn: boolean;
}

/**
 * `rotator plan <secret>`: a dry run. Refuses an unmanaged secret before any call, describes it
 * (DescribeSecret: no value is read), then plans each cluster with the engine's own planner over a
 * read-only port. Exit 1 when a cluster could not be planned.
 */
export async function runPlan(
  ctx: CliContext,
  secretId: string,
  options: PlanCommandOptions,
): Promise<ExitCode> {
  assertManaged(secretId, ctx.prefixes);
  const clusters = clusterSources(options, ctx.services.eks);
  const secrets = new SecretsManagerAdapter(ctx.services.secretsManager);
  const secret = await describeManagedSecret(secrets, secretId, ctx.prefixes);
  const current = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  if (!current) throw new RotationStateError(`Secret "${secret.name}" has no AWSCURRENT version`);
  // Stores in a replica region count, as the workflow counts them (DescribeSecret: no value read).
  const replicas = await replicationOf(ctx.services.secretsManager, secret.arn);

  const reports: ClusterPlanReport[] = [];
  for (const cluster of clusters) {
    try {
      const port = await cluster.connect();
      const plan = await planPropagation(
        port,
        { name: secret.name, arn: secret.arn, tags: secret.tags },
        current,
        { requireOptIn: options.requireOptIn, replicaRegions: replicas.map((r) => r.region) },
      );
      reports.push(describePlan(cluster.label, plan, ctx.now()));
    } catch (error) {
      const message = error instanceof Error ? sanitizeUpstreamMessage(error.message) : 'unknown failure';
      reports.push({ cluster: cluster.label, externalSecrets: [], error: message });
    }
  }

  if (ctx.options.json) {
    const json = {
      secret: { name: secret.name, arn: secret.arn },
      currentVersionId: current,
      replicas,
      clusters: reports,
    };
    writeLine(ctx.io.stdout, JSON.stringify(json, null, 2));
  } else {
    writeLine(
      ctx.io.stdout,
      `Plan for ${secret.name} (AWSCURRENT ${shortVersion(current)}): what a rotation would touch. ` +
        'Dry run: nothing was written.',
    );
    if (replicas.length > 0) {
      const list = replicas.map((r) => `${r.region} (${r.status})`).join(', ');
      writeLine(
        ctx.io.stdout,
        `Replicated to ${list}: stores there are resynced once the replica has the new version.`,
      );
    }
    writeLine(ctx.io.stdout, renderPlan(reports));
  }
  return reports.some((r) => r.error) ? EXIT.failed : EXIT.ok;
}
