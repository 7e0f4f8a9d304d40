import {
  commaList,
  jsonText,
  managedPrefixesVariable,
  parseEnvironment,
  wholeNumberVariable,
} from '../config';
import * as z from '../schema';
import type { SweepConfig } from './run-sweep';
import { checkRotationRules, rotationRuleSchema, scheduleRuleOf } from './schedule-rules';

/** `ROTATOR_ROTATION_RULES`: the `rotationRules` of cdk.json, as JSON. */
const rotationRulesVariable = z.pipe(jsonText, z.array(rotationRuleSchema));

const sweepEnvSchema = z
  .object({
    ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
    ROTATOR_SWEEP_GRACE_HOURS: z._default(z.coerce.number().check(z.minimum(0), z.maximum(720)), 24),
    ROTATOR_STUCK_AFTER_MINUTES: z._default(wholeNumberVariable(5, 10_080), 60),
    ROTATOR_MAX_ROTATIONS_PER_RUN: z._default(wholeNumberVariable(0, 1000), 50),
    ROTATOR_REPAIR_STUCK: z._default(
      z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
      'true',
    ),
    /** The rotation ledger: the sweep records each rotation it starts there first (and reconciles, below). */
    ROTATOR_LEDGER_TABLE: z.optional(z.string().check(z.minLength(3), z.maxLength(255))),
    /** The propagation workflow the reconciler starts executions of; reconciling needs the ledger too. */
    ROTATOR_PROPAGATION_STATE_MACHINE_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    ROTATOR_MAX_PROPAGATIONS_PER_RUN: z._default(wholeNumberVariable(0, 1000), 20),
    // As the workflow's claim lease: longer than its 6-hour execution timeout.
    ROTATOR_PROPAGATION_LEASE_MINUTES: z._default(wholeNumberVariable(1, 1440), 370),
    /** The orchestrator's rotation function: the schedules the sweep sets use it. Absent: schedules left alone. */
    ROTATOR_ROTATION_FUNCTION_ARN: z.optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:lambda:/, 'must be a Lambda function ARN')),
    ),
    ROTATOR_ROTATION_RULES: z._default(rotationRulesVariable, []),
    /** Secrets the stack schedules (`rotationSchedules`), comma-separated: left to CloudFormation. */
    ROTATOR_STACK_SCHEDULED_SECRETS: z._default(commaList, []),
    ROTATOR_MAX_SCHEDULES_PER_RUN: z._default(wholeNumberVariable(0, 1000), 50),
  })
  .check(
    z.superRefine((env, ctx) => {
      checkRotationRules(env.ROTATOR_ROTATION_RULES, env.ROTATOR_MANAGED_PREFIXES, ctx, [
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

/** Reads the sweep function's configuration once, at cold start, failing fast. */
export function loadSweepConfig(env: Readonly<Record<string, string | undefined>>): SweepConfig & {
  readonly managedPrefixes: readonly string[];
  readonly ledgerTableName: string | undefined;
  readonly stateMachineArn: string | undefined;
} {
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
        rules: c.ROTATOR_ROTATION_RULES.map(scheduleRuleOf),
        stackScheduled: new Set(c.ROTATOR_STACK_SCHEDULED_SECRETS),
        maxPerRun: c.ROTATOR_MAX_SCHEDULES_PER_RUN,
      },
    }),
  };
}
