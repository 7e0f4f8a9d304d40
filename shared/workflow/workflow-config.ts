import { commaList, managedPrefixesVariable, parseEnvironment, wholeNumberVariable } from '../config';
import * as z from '../schema';

const workflowEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_CLUSTERS: z.pipe(
    commaList,
    z.array(z.string().check(z.regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/))).check(z.minLength(1)),
  ),
  ROTATOR_RESTART_CONCURRENCY: z._default(wholeNumberVariable(1, 500), 25),
  ROTATOR_EMERGENCY_RESTART_CONCURRENCY: z._default(wholeNumberVariable(1, 500), 100),
  /** The largest plan a cluster's state may carry (Step Functions allows 256 KiB per state). */
  ROTATOR_MAX_PLAN_BYTES: z._default(wholeNumberVariable(1024, 196_608), 98_304),
  ROTATOR_RESTART_PERCENT: z._default(wholeNumberVariable(1, 100), 25),
  ROTATOR_CANARY_WORKLOADS: z._default(wholeNumberVariable(0, 10), 1),
  ROTATOR_REQUIRE_OPT_IN: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v: 'true' | 'false') => v === 'true'),
  ),
  ROTATOR_SYNC_TIMEOUT_SECONDS: z._default(wholeNumberVariable(5, 3600), 300),
  ROTATOR_ROLLOUT_TIMEOUT_SECONDS: z._default(wholeNumberVariable(10, 86_400), 900),
  ROTATOR_LEDGER_TABLE: z.string().check(z.minLength(3), z.maxLength(255)),
  /** How long one advance-restarts call works; within the step function's 2-minute timeout. */
  ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: z._default(wholeNumberVariable(0, 90), 60),
  /** The longest pause between two looks at the rollouts in flight (it starts at 1 s). */
  ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: z._default(wholeNumberVariable(1, 30), 5),
  /** A claim whose holder has not finished after this long is taken over: longer than the
   * workflow's 6-hour execution timeout, so a live execution is never overtaken. */
  ROTATOR_CLAIM_LEASE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(60)), 22_200),
});

export interface WorkflowConfig {
  readonly managedPrefixes: readonly string[];
  readonly clusters: readonly string[];
  readonly restartConcurrency: number;
  /** Workloads restarting at once per cluster for an emergency rotation: higher, never unbounded. */
  readonly emergencyRestartConcurrency: number;
  /** At most this percentage of a cluster's affected workloads in flight (ordinary rotations). */
  readonly restartPercent: number;
  /** Workloads restarted and verified alone, first, in each cluster (0: no canary). */
  readonly canaryWorkloads: number;
  readonly maxPlanBytes: number;
  readonly requireOptIn: boolean;
  readonly syncTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  readonly ledgerTableName: string;
  readonly leaseMs: number;
  readonly rolloutPollBudgetMs: number;
  readonly rolloutPollIntervalMs: number;
}

/** Reads the workflow step function's configuration once, at cold start, failing fast. */
export function loadWorkflowConfig(env: Readonly<Record<string, string | undefined>>): WorkflowConfig {
  const c = parseEnvironment(workflowEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    clusters: c.ROTATOR_CLUSTERS,
    restartConcurrency: c.ROTATOR_RESTART_CONCURRENCY,
    emergencyRestartConcurrency: c.ROTATOR_EMERGENCY_RESTART_CONCURRENCY,
    restartPercent: c.ROTATOR_RESTART_PERCENT,
    canaryWorkloads: c.ROTATOR_CANARY_WORKLOADS,
    maxPlanBytes: c.ROTATOR_MAX_PLAN_BYTES,
    requireOptIn: c.ROTATOR_REQUIRE_OPT_IN,
    syncTimeoutMs: c.ROTATOR_SYNC_TIMEOUT_SECONDS * 1000,
    rolloutTimeoutMs: c.ROTATOR_ROLLOUT_TIMEOUT_SECONDS * 1000,
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
    leaseMs: c.ROTATOR_CLAIM_LEASE_SECONDS * 1000,
    rolloutPollBudgetMs: c.ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS * 1000,
    rolloutPollIntervalMs: c.ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS * 1000,
  };
}
