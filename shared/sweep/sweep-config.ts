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
import { checkPrefixRules } from '../managed-prefixes';
import * as z from '../schema';
import { WORKFLOW_DEFAULTS } from '../workflow/workflow-config';
import type { SweepConfig } from './run-sweep';
import { type RotationRuleInput, rotationRuleSchema, scheduleRuleOf } from './schedule-rules';

/** The sweep function's defaults, for what infra does not set: the one place they are written. */
export const SWEEP_DEFAULTS = {
  graceMs: 86_400_000,
  stuckAfterMs: 3_600_000,
  maxRotationsPerRun: 50,
  repairStuck: true,
  maxPropagationsPerRun: 20,
  // The workflow's claim lease: longer than its 6-hour execution timeout.
  propagationLeaseMs: WORKFLOW_DEFAULTS.leaseMs,
  maxSchedulesPerRun: 50,
} as const;

/** `ROTATOR_ROTATION_RULES`: the `rotationRules` of cdk.json, as JSON. */
const rotationRulesVariable = z.pipe(jsonText, z.array(rotationRuleSchema));

/** The sweep function's environment: the variables it parses at cold start. */
export const sweepEnvSchema = z
  .object({
    ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
    ROTATOR_SWEEP_GRACE_HOURS: z._default(
      z.coerce.number().check(z.minimum(0), z.maximum(720)),
      SWEEP_DEFAULTS.graceMs / 3_600_000,
    ),
    ROTATOR_STUCK_AFTER_MINUTES: z._default(
      wholeNumberVariable(5, 10_080),
      SWEEP_DEFAULTS.stuckAfterMs / 60_000,
    ),
    ROTATOR_MAX_ROTATIONS_PER_RUN: z._default(
      wholeNumberVariable(0, 1000),
      SWEEP_DEFAULTS.maxRotationsPerRun,
    ),
    ROTATOR_REPAIR_STUCK: z._default(
      z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
      String(SWEEP_DEFAULTS.repairStuck) as 'true' | 'false',
    ),
    /** The rotation ledger: the sweep records each rotation it starts there first (and reconciles, below). */
    ROTATOR_LEDGER_TABLE: z.optional(z.string().check(z.minLength(3), z.maxLength(255))),
    /** The propagation workflow the reconciler starts executions of; reconciling needs the ledger too. */
    ROTATOR_PROPAGATION_STATE_MACHINE_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    ROTATOR_MAX_PROPAGATIONS_PER_RUN: z._default(
      wholeNumberVariable(0, 1000),
      SWEEP_DEFAULTS.maxPropagationsPerRun,
    ),
    ROTATOR_PROPAGATION_LEASE_MINUTES: z._default(
      wholeNumberVariable(1, 1440),
      SWEEP_DEFAULTS.propagationLeaseMs / 60_000,
    ),
    /** The orchestrator's rotation function: the schedules the sweep sets use it. Absent: schedules left alone. */
    ROTATOR_ROTATION_FUNCTION_ARN: z.optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:lambda:/, 'must be a Lambda function ARN')),
    ),
    /** The database rotation function, when deployed: schedules of database secrets use it. */
    ROTATOR_DATABASE_ROTATION_FUNCTION_ARN: z.optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:lambda:/, 'must be a Lambda function ARN')),
    ),
    ROTATOR_ROTATION_RULES: z._default(rotationRulesVariable, []),
    /** Secrets the stack schedules (`rotationSchedules`), comma-separated: left to CloudFormation. */
    ROTATOR_STACK_SCHEDULED_SECRETS: z._default(commaList, []),
    ROTATOR_MAX_SCHEDULES_PER_RUN: z._default(
      wholeNumberVariable(0, 1000),
      SWEEP_DEFAULTS.maxSchedulesPerRun,
    ),
  })
  .check(
    z.superRefine((env, ctx) => {
      checkPrefixRules(env.ROTATOR_ROTATION_RULES, env.ROTATOR_MANAGED_PREFIXES, ctx, [
        'ROTATOR_ROTATION_RULES',
      ]);
      if (env.ROTATOR_ROTATION_RULES.length > 0 && !env.ROTATOR_ROTATION_FUNCTION_ARN) {
        ctx.addIssue({
          code: 'custom',
          path: ['ROTATOR_ROTATION_FUNCTION_ARN'],
          message: 'is required with ROTATOR_ROTATION_RULES (the schedules use that function)',
        });
      }
    }),
  );

export type LoadedSweepConfig = SweepConfig & {
  readonly ledgerTableName: string | undefined;
  readonly stateMachineArn: string | undefined;
};

/** Reads the sweep function's configuration once, at cold start, failing fast. */
export function loadSweepConfig(env: Readonly<Record<string, string | undefined>>): LoadedSweepConfig {
  const c = parseEnvironment(sweepEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    graceMs: c.ROTATOR_SWEEP_GRACE_HOURS * 3_600_000,
    stuckAfterMs: c.ROTATOR_STUCK_AFTER_MINUTES * 60_000,
    maxRotationsPerRun: c.ROTATOR_MAX_ROTATIONS_PER_RUN,
    repairStuck: c.ROTATOR_REPAIR_STUCK === 'true',
    ledgerTableName: c.ROTATOR_LEDGER_TABLE,
    stateMachineArn: c.ROTATOR_PROPAGATION_STATE_MACHINE_ARN,
    maxPropagationsPerRun: c.ROTATOR_MAX_PROPAGATIONS_PER_RUN,
    propagationLeaseMs: c.ROTATOR_PROPAGATION_LEASE_MINUTES * 60_000,
    ...(c.ROTATOR_ROTATION_FUNCTION_ARN && {
      schedules: {
        rotationFunctionArn: c.ROTATOR_ROTATION_FUNCTION_ARN,
        databaseRotationFunctionArn: c.ROTATOR_DATABASE_ROTATION_FUNCTION_ARN,
        rules: c.ROTATOR_ROTATION_RULES.map(scheduleRuleOf),
        stackScheduled: new Set(c.ROTATOR_STACK_SCHEDULED_SECRETS),
        maxPerRun: c.ROTATOR_MAX_SCHEDULES_PER_RUN,
      },
    }),
  };
}

/** What infra sets for the sweep: the features it deploys, and any default it overrides. */
export interface SweepSettings {
  readonly managedPrefixes: readonly string[];
  readonly graceMs?: number;
  readonly stuckAfterMs?: number;
  readonly maxRotationsPerRun?: number;
  readonly repairStuck?: boolean;
  /** The ledger the sweep records its rotations in. Absent: not recorded, no reconcile. */
  readonly ledger?: {
    readonly tableName: string;
    /** The propagation workflow the sweep reconciles with the ledger. Absent: no reconcile. */
    readonly reconcile?: {
      readonly stateMachineArn: string;
      readonly maxPropagationsPerRun?: number;
      readonly propagationLeaseMs?: number;
    };
  };
  /** Schedules the sweep sets with the rotation function. Absent: schedules left alone. */
  readonly schedules?: {
    readonly rotationFunctionArn: string;
    /** The database rotation function, when deployed. */
    readonly databaseRotationFunctionArn?: string;
    readonly rules?: readonly RotationRuleInput[];
    /** Secrets the stack schedules itself (`rotationSchedules`). */
    readonly stackScheduledSecrets?: readonly string[];
    readonly maxPerRun?: number;
  };
}

/**
 * The sweep's environment for `settings`, every default of a deployed feature written out; the
 * inverse of {@link loadSweepConfig}.
 */
export function sweepEnvironment(settings: SweepSettings): FunctionEnvironment {
  const s = { ...SWEEP_DEFAULTS, ...definedOnly(settings) };
  return {
    ROTATOR_MANAGED_PREFIXES: s.managedPrefixes.join(','),
    ROTATOR_SWEEP_GRACE_HOURS: String(s.graceMs / 3_600_000),
    ROTATOR_STUCK_AFTER_MINUTES: wholeUnitsOf(s.stuckAfterMs, 'minutes', 'ROTATOR_STUCK_AFTER_MINUTES'),
    ROTATOR_MAX_ROTATIONS_PER_RUN: String(s.maxRotationsPerRun),
    ROTATOR_REPAIR_STUCK: String(s.repairStuck),
    ...(s.ledger && ledgerEnvironment(s.ledger)),
    ...(s.schedules && schedulesEnvironment(s.schedules)),
  };
}

function ledgerEnvironment(ledger: NonNullable<SweepSettings['ledger']>): FunctionEnvironment {
  if (!ledger.reconcile) return { ROTATOR_LEDGER_TABLE: ledger.tableName };
  const reconcile = { ...SWEEP_DEFAULTS, ...definedOnly(ledger.reconcile) };
  return {
    ROTATOR_LEDGER_TABLE: ledger.tableName,
    ROTATOR_PROPAGATION_STATE_MACHINE_ARN: reconcile.stateMachineArn,
    ROTATOR_MAX_PROPAGATIONS_PER_RUN: String(reconcile.maxPropagationsPerRun),
    ROTATOR_PROPAGATION_LEASE_MINUTES: wholeUnitsOf(
      reconcile.propagationLeaseMs,
      'minutes',
      'ROTATOR_PROPAGATION_LEASE_MINUTES',
    ),
  };
}

/** Rules and the stack's own secrets are written only when there are some (none is the default). */
function schedulesEnvironment(schedules: NonNullable<SweepSettings['schedules']>): FunctionEnvironment {
  const { rules = [], stackScheduledSecrets = [] } = schedules;
  return {
    ROTATOR_ROTATION_FUNCTION_ARN: schedules.rotationFunctionArn,
    ...(schedules.databaseRotationFunctionArn && {
      ROTATOR_DATABASE_ROTATION_FUNCTION_ARN: schedules.databaseRotationFunctionArn,
    }),
    ROTATOR_MAX_SCHEDULES_PER_RUN: String(schedules.maxPerRun ?? SWEEP_DEFAULTS.maxSchedulesPerRun),
    ...(rules.length > 0 && { ROTATOR_ROTATION_RULES: JSON.stringify(rules) }),
    ...(stackScheduledSecrets.length > 0 && {
      ROTATOR_STACK_SCHEDULED_SECRETS: stackScheduledSecrets.join(','),
    }),
  };
}
