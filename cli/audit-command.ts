import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import {
  auditConvergence,
  type ConsumerAudit,
  type ExternalSecretAudit,
  lags,
} from '../shared/compliance/convergence';
import { kubernetesPodLister, type PodInfo } from '../shared/compliance/pod-lister';
import { KubernetesCallError, RotationStateError, sanitizeUpstreamMessage } from '../shared/errors';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import { assertManaged } from '../shared/managed-prefixes';
import { arnInRegion } from '../shared/propagation/find-external-secrets';
import { planPropagation } from '../shared/propagation/propagation-plan';
import { secretsManagerReplicas } from '../shared/propagation/replica-port';
import { checkReplicas, type ReplicaVerdict } from '../shared/propagation/replica-sync';
import { describeManagedSecret } from '../shared/secrets/describe-managed';
import { versionWith } from '../shared/secrets/versions';
import { type CliContext, writeLine } from './cli-context';
import { type ClusterSourceOptions, clusterSources, type LabelledCluster, readOnly } from './cluster-sources';
import { EXIT, type ExitCode } from './exit-codes';
import { createProgressLine, type ProgressLine } from './progress-line';
import { formatTime, shortVersion } from './time-format';

export interface ClusterAudit {
  readonly cluster: string;
  readonly externalSecrets: readonly ExternalSecretAudit[];
  /**
   * ExternalSecrets that name the secret through stores in regions where it is neither primary nor
   * replicated: they never get this secret's value (reported, not counted as lagging).
   */
  readonly otherRegion?: readonly OtherRegionAudit[];
  /** Why this cluster could not be audited; nothing about it is proven then. */
  readonly error?: string;
}

export interface OtherRegionAudit {
  readonly namespace: string;
  readonly name: string;
  readonly regions: readonly string[];
  readonly reasons: readonly string[];
}

/**
 * `rotator audit <secret>`: proves convergence without reading any value. DescribeSecret says
 * which version is AWSCURRENT, the ledger (else ListSecretVersionIds) since when; in each cluster the planner finds the ExternalSecrets that reference the secret and
 * their consumers, ESO's status says whether each has refreshed since, and the consumers' pods
 * (one list per namespace) whether they started after that. Exit 2 when anything lags, 1 when the
 * secret or a cluster could not be audited (a 403 on pods names the RBAC rule).
 */
export async function runAudit(
  ctx: CliContext,
  secretId: string,
  options: ClusterSourceOptions,
): Promise<ExitCode> {
  assertManaged(secretId, ctx.prefixes);
  const clusters = clusterSources(options, ctx.services.eks, 'audit');
  const secrets = new SecretsManagerAdapter(ctx.services.secretsManager);
  const secret = await describeManagedSecret(secrets, secretId, ctx.prefixes);
  const current = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  let since: CurrentSince;
  try {
    if (!current) throw new RotationStateError(`Secret "${secret.name}" has no AWSCURRENT version`);
    since = await currentSince(ctx, secrets, secret.name, secret.arn, current);
  } catch (error) {
    // The secret's state cannot be audited: exit 1 ("could not be audited"), as the CLI's refusals
    // of input (exit 2) would read as "lags" here.
    if (!(error instanceof RotationStateError)) throw error;
    writeLine(ctx.io.stderr, `error: ${error.message}`);
    return EXIT.failed;
  }
  const movedAt = since.at;
  // Stores in replica regions count as the workflow counts them: synced only once the replica holds
  // the version as AWSCURRENT (DescribeSecret in the primary and in each replica's region: no value).
  const replicaPort = secretsManagerReplicas(
    ctx.options.endpointUrl ? { endpoint: ctx.options.endpointUrl } : {},
  );
  const replicas = await replicaPort.replicationOf(secret.arn);
  const verdicts = await checkReplicas(
    replicaPort,
    secret.arn,
    current,
    replicas.map((r) => ({ region: r.region, secretId: arnInRegion(secret.arn, r.region) })),
  );
  const regions = replicas.map((r) => r.region);

  const progress = createProgressLine({ stream: ctx.io.stderr, timer: ctx.io.stderr.isTTY === true });
  const reports: ClusterAudit[] = [];
  for (const cluster of clusters)
    reports.push(await auditCluster(cluster, secret, current, { movedAt, regions, verdicts }, progress));
  progress.done(`audited ${reports.length} cluster(s)`);

  const lagging = reports.some((r) => lags(r.externalSecrets));
  if (ctx.options.json) {
    const json = {
      secret: { name: secret.name, arn: secret.arn },
      currentVersionId: current,
      movedAt: movedAt.toISOString(),
      movedAtSource: since.source,
      approximate: since.source !== 'ledger',
      replicas: replicas.map((r) => ({
        region: r.region,
        status: r.status,
        holdsVersion: verdicts.get(r.region)?.state === 'current',
      })),
      converged: !lagging && !reports.some((r) => r.error),
      clusters: reports,
    };
    writeLine(ctx.io.stdout, JSON.stringify(json, null, 2));
  } else {
    writeLine(
      ctx.io.stdout,
      `Audit of ${secret.name}: AWSCURRENT ${shortVersion(current)} since ${formatTime(movedAt)}. No value was read.`,
    );
    if (since.source !== 'ledger') writeLine(ctx.io.stdout, APPROXIMATE_NOTE);
    if (replicas.length > 0) {
      const list = replicas.map((r) => {
        const verdict = verdicts.get(r.region);
        return `${r.region} (${verdict?.state === 'current' ? 'holds it' : (verdict?.detail ?? r.status)})`;
      });
      writeLine(
        ctx.io.stdout,
        `Replicated to ${list.join(', ')}: stores there are synced only once their replica holds the version.`,
      );
    }
    writeLine(ctx.io.stdout, renderAudit(reports));
  }
  if (reports.some((r) => r.error)) return EXIT.failed;
  return lagging ? EXIT.attention : EXIT.ok;
}

/** Since when AWSCURRENT holds the version, and where that time comes from. */
interface CurrentSince {
  readonly at: Date;
  /** `ledger`: the workflow's record of the move; `version-created`: the version's creation only. */
  readonly source: 'ledger' | 'version-created';
}

const APPROXIMATE_NOTE =
  'approximate: no ledger record of the move, so "since" is the version\'s creation; a rotated version ' +
  'is created (AWSPENDING) before it is promoted, and an ESO refresh in between read the old value ' +
  'yet counts as synced here. Configure the ledger (--ledger-table) for an exact audit.';

/**
 * When the current version became AWSCURRENT: the ledger's record of that move (written by the
 * workflow's Claim, moments after the move), else the version's creation (ListSecretVersionIds),
 * which is earlier than the promotion of a rotated version (approximate) and unrelated to a version
 * made current again. A RotationStateError when neither is known.
 */
async function currentSince(
  ctx: CliContext,
  secrets: SecretsManagerAdapter,
  name: string,
  arn: string,
  versionId: string,
): Promise<CurrentSince> {
  const move = (await ctx.services.ledger?.summaries([name]))?.get(name)?.currentMove;
  // When AWSCURRENT moved (the event's time), else when the ledger registered the move.
  if (move?.versionId === versionId) return { at: new Date(move.movedAt ?? move.at), source: 'ledger' };
  const created = await secrets.versionCreatedAt(arn, versionId);
  if (!created)
    throw new RotationStateError(`Cannot tell when version ${versionId} of "${name}" became AWSCURRENT`);
  return { at: created, source: 'version-created' };
}

async function auditCluster(
  cluster: LabelledCluster,
  secret: { name: string; arn: string; tags: Readonly<Record<string, string>> },
  current: string,
  replicaState: {
    readonly movedAt: Date;
    readonly regions: readonly string[];
    readonly verdicts: ReadonlyMap<string, ReplicaVerdict>;
  },
  progress: ProgressLine,
): Promise<ClusterAudit> {
  const { movedAt, regions, verdicts } = replicaState;
  try {
    progress.update(`${cluster.label}: finding ExternalSecrets and consumers`);
    const transport = await cluster.transport();
    const plan = await planPropagation(readOnly(new KubernetesAdapter(transport)), secret, current, {
      replicaRegions: regions,
    });
    const namespaces = [
      ...new Set([...plan.resync, ...plan.notRefreshing].map((t) => t.affected.externalSecret.namespace)),
    ];
    const lister = kubernetesPodLister(transport);
    const pods = new Map<string, PodInfo[]>();
    for (const [index, namespace] of namespaces.entries()) {
      progress.update(`${cluster.label}: listing pods in ${namespace} (${index + 1}/${namespaces.length})`);
      pods.set(namespace, await lister.listPods(namespace));
    }
    const otherRegion = (plan.otherRegion ?? []).map((o) => ({
      namespace: o.externalSecret.namespace,
      name: o.externalSecret.name,
      regions: o.regions,
      reasons: o.reasons,
    }));
    return {
      cluster: cluster.label,
      externalSecrets: auditConvergence(plan, pods, movedAt, verdicts),
      ...(otherRegion.length > 0 && { otherRegion }),
    };
  } catch (error) {
    return { cluster: cluster.label, externalSecrets: [], error: describeClusterError(error) };
  }
}

function describeClusterError(error: unknown): string {
  if (error instanceof KubernetesCallError && error.httpStatus === 403) {
    return `${error.message}: the orchestrator's identity may not list something the audit reads (pods need the rule "list pods" of infra/kubernetes/rbac.yaml)`;
  }
  return error instanceof Error ? sanitizeUpstreamMessage(error.message) : 'unknown failure';
}

/** The audit as text: per cluster, each ExternalSecret's sync and its consumers, lags marked. */
export function renderAudit(reports: readonly ClusterAudit[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`cluster ${report.cluster}`);
    if (report.error) {
      lines.push(`  NOT AUDITED: ${report.error}`);
      continue;
    }
    if (report.externalSecrets.length === 0) lines.push('  no ExternalSecret references this secret');
    for (const es of report.externalSecrets) {
      const { sync } = es;
      const mark = sync.state === 'synced' ? 'ok' : 'LAGS';
      const detail =
        sync.state === 'synced'
          ? `synced ${formatTime(sync.refreshTime)}${sync.approximate ? ' (refreshed again since: pods judged against the move)' : ''}`
          : `${sync.state}: ${sync.reason ?? ''} (last refresh ${formatTime(sync.refreshTime)})`;
      lines.push(
        `  ${mark.padEnd(4)} ExternalSecret ${es.namespace}/${es.name} → Secret ${es.targetSecret}: ${detail}`,
      );
      for (const consumer of es.consumers) lines.push(`    ${consumerLine(consumer)}`);
    }
    for (const o of report.otherRegion ?? []) {
      lines.push(
        `  --   ExternalSecret ${o.namespace}/${o.name}: not audited: it reads the secret's name in ${o.regions.join(', ')}, where the secret is not replicated`,
      );
    }
  }
  const all = reports.flatMap((r) => r.externalSecrets);
  const lagging = all.filter((a) => a.sync.state !== 'synced').length;
  const consumers = all.flatMap((a) => a.consumers);
  const lagged = consumers.filter((c) => c.state === 'lagging' || c.state === 'waiting-for-sync').length;
  lines.push(
    `total: ${all.length} ExternalSecret(s), ${lagging} not synced; ${consumers.length} consumer(s), ${lagged} lagging` +
      (reports.some((r) => r.error) ? '; some clusters NOT AUDITED' : ''),
  );
  return lines.join('\n');
}

function consumerLine(c: ConsumerAudit): string {
  const what = `${c.kind}/${c.name}`;
  const skipped = c.skipped ? ` [not restarted by the orchestrator: ${c.skipped}]` : '';
  switch (c.state) {
    case 'converged':
      return `ok   ${what}: ${c.pods} pod(s), all started after the sync${skipped}`;
    case 'lagging':
      return `LAGS ${what}: ${c.laggingCount} of ${c.pods} pod(s) started before the sync (${c.laggingPods.join(', ')})${skipped}`;
    case 'waiting-for-sync':
      return `LAGS ${what}: ${c.pods} pod(s) run the old value until the ExternalSecret syncs${skipped}`;
    case 'no-pods':
      return `ok   ${what}: no running pods${skipped}`;
    case 'next-run':
      return `ok   ${what}: its next run reads the Secret${skipped}`;
  }
}
