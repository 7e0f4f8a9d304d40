import {
  commaList,
  definedOnly,
  type FunctionEnvironment,
  jsonText,
  managedPrefixesVariable,
  parseEnvironment,
  wholeNumberVariable,
  wholeUnitsOf,
} from '../config';
import { type ClusterAccess, clusterAccessSchema } from '../kubernetes/eks-cluster-access';
import * as z from '../schema';
import { type RestartWindowsConfig, restartWindowsConfigSchema } from './restart-window-policy';

export interface WorkflowConfig {
  readonly managedPrefixes: readonly string[];
  readonly clusters: readonly string[];
  /** The clusters reached through a role of their own (another account or region), by name. */
  readonly clusterAccess: Readonly<Record<string, ClusterAccess>>;
  readonly restartConcurrency: number;
  /** Workloads restarting at once per cluster for an emergency rotation: higher, never unbounded. */
  readonly emergencyRestartConcurrency: number;
  /** At most this percentage of a cluster's affected workloads in flight (ordinary rotations). */
  readonly restartPercent: number;
  /** Workloads restarted and verified alone, first, in each cluster (0: no canary). */
  readonly canaryWorkloads: number;
  /** The largest plan a cluster's state may carry (Step Functions allows 256 KiB per state). */
  readonly maxPlanBytes: number;
  readonly requireOptIn: boolean;
  /**
   * Roll every secret back after a propagation whose rollouts failed (where its strategy allows
   * it); without it only secrets tagged `rotator:rollback=true` are.
   */
  readonly autoRollback: boolean;
  readonly syncTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  readonly ledgerTableName: string;
  /** A claim whose holder has not finished after this long is taken over. */
  readonly leaseMs: number;
  /** How long one advance-restarts call works; within the step function's 2-minute timeout. */
  readonly rolloutPollBudgetMs: number;
  /** The longest pause between two looks at the rollouts in flight (it starts at 1 s). */
  readonly rolloutPollIntervalMs: number;
  /** The deployment's restart windows (a workload's annotation wins); none: restart at once. */
  readonly restartWindows?: RestartWindowsConfig;
}

/** The step function's defaults, for what infra does not set: the one place they are written. */
export const WORKFLOW_DEFAULTS = {
  clusterAccess: {},
  restartConcurrency: 25,
  emergencyRestartConcurrency: 100,
  restartPercent: 25,
  canaryWorkloads: 1,
  maxPlanBytes: 98_304,
  requireOptIn: false,
  autoRollback: false,
  syncTimeoutMs: 300_000,
  rolloutTimeoutMs: 900_000,
  // Longer than the workflow's 6-hour execution timeout, so a live execution is never overtaken.
  leaseMs: 22_200_000,
  rolloutPollBudgetMs: 60_000,
  rolloutPollIntervalMs: 5_000,
} as const satisfies Partial<WorkflowConfig>;

/** What infra sets for the step function: what has no default, and any default it overrides. */
export type WorkflowSettings = Omit<WorkflowConfig, keyof typeof WORKFLOW_DEFAULTS> &
  Partial<Pick<WorkflowConfig, keyof typeof WORKFLOW_DEFAULTS>>;

const seconds = (ms: number) => ms / 1000;

/** The step function's environment: the variables it parses at cold start. */
export const workflowEnvSchema = z
  .object({
    ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
    ROTATOR_CLUSTERS: z.pipe(
      commaList,
      z.array(z.string().check(z.regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/))).check(z.minLength(1)),
    ),
    ROTATOR_RESTART_CONCURRENCY: z._default(
      wholeNumberVariable(1, 500),
      WORKFLOW_DEFAULTS.restartConcurrency,
    ),
    ROTATOR_EMERGENCY_RESTART_CONCURRENCY: z._default(
      wholeNumberVariable(1, 500),
      WORKFLOW_DEFAULTS.emergencyRestartConcurrency,
    ),
    // Step Functions allows 256 KiB per state.
    ROTATOR_MAX_PLAN_BYTES: z._default(wholeNumberVariable(1024, 196_608), WORKFLOW_DEFAULTS.maxPlanBytes),
    ROTATOR_RESTART_PERCENT: z._default(wholeNumberVariable(1, 100), WORKFLOW_DEFAULTS.restartPercent),
    ROTATOR_CANARY_WORKLOADS: z._default(wholeNumberVariable(0, 10), WORKFLOW_DEFAULTS.canaryWorkloads),
    ROTATOR_REQUIRE_OPT_IN: z.pipe(
      z._default(z.enum(['true', 'false']), String(WORKFLOW_DEFAULTS.requireOptIn) as 'true' | 'false'),
      z.transform((v: 'true' | 'false') => v === 'true'),
    ),
    ROTATOR_AUTO_ROLLBACK: z.pipe(
      z._default(z.enum(['true', 'false']), String(WORKFLOW_DEFAULTS.autoRollback) as 'true' | 'false'),
      z.transform((v: 'true' | 'false') => v === 'true'),
    ),
    ROTATOR_SYNC_TIMEOUT_SECONDS: z._default(
      wholeNumberVariable(5, 3600),
      seconds(WORKFLOW_DEFAULTS.syncTimeoutMs),
    ),
    ROTATOR_ROLLOUT_TIMEOUT_SECONDS: z._default(
      wholeNumberVariable(10, 86_400),
      seconds(WORKFLOW_DEFAULTS.rolloutTimeoutMs),
    ),
    ROTATOR_LEDGER_TABLE: z.string().check(z.minLength(3), z.maxLength(255)),
    // Within the step function's 2-minute timeout.
    ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: z._default(
      wholeNumberVariable(0, 90),
      seconds(WORKFLOW_DEFAULTS.rolloutPollBudgetMs),
    ),
    ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: z._default(
      wholeNumberVariable(1, 30),
      seconds(WORKFLOW_DEFAULTS.rolloutPollIntervalMs),
    ),
    ROTATOR_CLAIM_LEASE_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.minimum(60)),
      seconds(WORKFLOW_DEFAULTS.leaseMs),
    ),
    // JSON: { "default": "<window>", "namespaces": { "<namespace>": "<window>" } }; absent: none.
    ROTATOR_RESTART_WINDOWS: z.optional(z.pipe(jsonText, restartWindowsConfigSchema)),
    // JSON: { "<cluster>": { "roleArn": "…", "externalId": "…", "region": "…" } }; absent: none.
    ROTATOR_CLUSTER_ACCESS: z._default(z.pipe(jsonText, z.record(z.string(), clusterAccessSchema)), {}),
  })
  .check(
    z.superRefine((env, ctx) => {
      for (const name of Object.keys(env.ROTATOR_CLUSTER_ACCESS)) {
        if (env.ROTATOR_CLUSTERS.includes(name)) continue;
        ctx.addIssue({
          code: 'custom',
          message: `names cluster ${name}, which ROTATOR_CLUSTERS does not list`,
          input: name,
          path: ['ROTATOR_CLUSTER_ACCESS'],
        });
      }
    }),
  );

/** Reads the workflow step function's configuration once, at cold start, failing fast. */
export function loadWorkflowConfig(env: Readonly<Record<string, string | undefined>>): WorkflowConfig {
  const c = parseEnvironment(workflowEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    clusters: c.ROTATOR_CLUSTERS,
    clusterAccess: c.ROTATOR_CLUSTER_ACCESS,
    restartConcurrency: c.ROTATOR_RESTART_CONCURRENCY,
    emergencyRestartConcurrency: c.ROTATOR_EMERGENCY_RESTART_CONCURRENCY,
    restartPercent: c.ROTATOR_RESTART_PERCENT,
    canaryWorkloads: c.ROTATOR_CANARY_WORKLOADS,
    maxPlanBytes: c.ROTATOR_MAX_PLAN_BYTES,
    requireOptIn: c.ROTATOR_REQUIRE_OPT_IN,
    autoRollback: c.ROTATOR_AUTO_ROLLBACK,
    syncTimeoutMs: c.ROTATOR_SYNC_TIMEOUT_SECONDS * 1000,
    rolloutTimeoutMs: c.ROTATOR_ROLLOUT_TIMEOUT_SECONDS * 1000,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
    leaseMs: c.ROTATOR_CLAIM_LEASE_SECONDS * 1000,
    rolloutPollBudgetMs: c.ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS * 1000,
    rolloutPollIntervalMs: c.ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS * 1000,
    // Each window's text was parsed by the schema: a malformed one fails the cold start.
    ...(c.ROTATOR_RESTART_WINDOWS ? { restartWindows: c.ROTATOR_RESTART_WINDOWS } : {}),
  };
}

/**
 * The step function's environment for `settings`, every default written out, so the deployed
 * function shows what it runs with; the inverse of {@link loadWorkflowConfig}.
 * @example workflowEnvironment({ managedPrefixes: ['prod/'], clusters: ['prod-eu-1'], ledgerTableName: table.tableName })
 */
export function workflowEnvironment(settings: WorkflowSettings): FunctionEnvironment {
  const s = { ...WORKFLOW_DEFAULTS, ...definedOnly(settings) };
  return {
    ROTATOR_MANAGED_PREFIXES: s.managedPrefixes.join(','),
    ROTATOR_CLUSTERS: s.clusters.join(','),
    // Written only when configured, so deployments without windows keep their environment.
    ...(settings.restartWindows ? { ROTATOR_RESTART_WINDOWS: JSON.stringify(settings.restartWindows) } : {}),
    // Written only when a cluster has a role, so deployments without one keep their environment.
    ...(Object.keys(s.clusterAccess).length > 0
      ? { ROTATOR_CLUSTER_ACCESS: JSON.stringify(s.clusterAccess) }
      : {}),
    ROTATOR_RESTART_CONCURRENCY: String(s.restartConcurrency),
    ROTATOR_EMERGENCY_RESTART_CONCURRENCY: String(s.emergencyRestartConcurrency),
    ROTATOR_RESTART_PERCENT: String(s.restartPercent),
    ROTATOR_CANARY_WORKLOADS: String(s.canaryWorkloads),
    ROTATOR_MAX_PLAN_BYTES: String(s.maxPlanBytes),
    ROTATOR_REQUIRE_OPT_IN: String(s.requireOptIn),
    ROTATOR_AUTO_ROLLBACK: String(s.autoRollback),
    ROTATOR_SYNC_TIMEOUT_SECONDS: wholeUnitsOf(s.syncTimeoutMs, 'seconds', 'ROTATOR_SYNC_TIMEOUT_SECONDS'),
    ROTATOR_ROLLOUT_TIMEOUT_SECONDS: wholeUnitsOf(
      s.rolloutTimeoutMs,
      'seconds',
      'ROTATOR_ROLLOUT_TIMEOUT_SECONDS',
    ),
    ROTATOR_LEDGER_TABLE: s.ledgerTableName,
    ROTATOR_CLAIM_LEASE_SECONDS: wholeUnitsOf(s.leaseMs, 'seconds', 'ROTATOR_CLAIM_LEASE_SECONDS'),
    ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: wholeUnitsOf(
      s.rolloutPollBudgetMs,
      'seconds',
      'ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS',
    ),
    ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: wholeUnitsOf(
      s.rolloutPollIntervalMs,
      'seconds',
      'ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS',
    ),
  };
}
