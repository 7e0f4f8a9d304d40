import { managedPrefixSchema } from '../config';
import * as z from '../schema';

/** The tag a secret carries to ask for its own rotation schedule: `30d`, `rate(…)` or `cron(…)`. */
export const SCHEDULE_TAG = 'rotator:schedule';

/** A Secrets Manager rotation schedule, in days or as an expression; the window in whole hours. */
export type RotationSchedule =
  | { readonly kind: 'days'; readonly days: number; readonly windowHours?: number }
  | { readonly kind: 'expression'; readonly expression: string; readonly windowHours?: number };

/** A schedule for every managed secret whose name starts with `prefix`. */
export interface ScheduleRule {
  readonly prefix: string;
  readonly schedule: RotationSchedule;
}

const DAYS = z.number().check(z.int(), z.minimum(1), z.maximum(1000));
const EXPRESSION = z.string().check(z.trim(), z.regex(/^(rate|cron)\(.+\)$/, 'must be rate(…) or cron(…)'));

/**
 * One entry of `orchestrator.rotationRules` in cdk.json, and of `ROTATOR_ROTATION_RULES`: a prefix
 * with exactly one of `automaticallyAfterDays` or `scheduleExpression`, and an optional window.
 */
export const rotationRuleSchema = z
  .strictObject({
    prefix: managedPrefixSchema,
    automaticallyAfterDays: z.optional(DAYS),
    scheduleExpression: z.optional(EXPRESSION),
    windowHours: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(24))),
  })
  .check(
    z.refine(
      (rule) => (rule.automaticallyAfterDays === undefined) !== (rule.scheduleExpression === undefined),
      { message: 'needs exactly one of automaticallyAfterDays or scheduleExpression' },
    ),
  );

export type RotationRuleInput = z.infer<typeof rotationRuleSchema>;

/** The typed rule for a validated configuration entry. */
export function scheduleRuleOf(input: RotationRuleInput): ScheduleRule {
  const window = input.windowHours === undefined ? {} : { windowHours: input.windowHours };
  return {
    prefix: input.prefix,
    schedule:
      input.automaticallyAfterDays !== undefined
        ? { kind: 'days', days: input.automaticallyAfterDays, ...window }
        : { kind: 'expression', expression: input.scheduleExpression ?? '', ...window },
  };
}

/** `30d`: a whole number of days, within DAYS. */
const DAYS_TAG = z.pipe(
  z.pipe(
    z.string().check(z.regex(/^\d+d$/)),
    z.transform((value: string) => Number.parseInt(value, 10)),
  ),
  DAYS,
);

const scheduleTagSchema = z.union(
  [
    z.pipe(
      DAYS_TAG,
      z.transform((days: number): RotationSchedule => ({ kind: 'days', days })),
    ),
    z.pipe(
      EXPRESSION,
      z.transform((expression: string): RotationSchedule => ({ kind: 'expression', expression })),
    ),
  ],
  { error: `must be days (e.g. 30d, 1–1000), rate(…) or cron(…)` },
);

/**
 * The schedule a secret's `rotator:schedule` tag asks for: undefined without the tag, an error
 * message (naming the tag, never another value) when it cannot be read.
 * @example scheduleFromTags({ 'rotator:schedule': '30d' }) // { schedule: { kind: 'days', days: 30 } }
 */
export function scheduleFromTags(
  tags: Readonly<Record<string, string>>,
): { readonly schedule: RotationSchedule } | { readonly error: string } | undefined {
  const raw = tags[SCHEDULE_TAG];
  if (raw === undefined) return undefined;
  const parsed = scheduleTagSchema.safeParse(raw.trim());
  return parsed.success
    ? { schedule: parsed.data }
    : { error: `Tag ${SCHEDULE_TAG} ${parsed.error.issues[0]?.message ?? 'is invalid'}` };
}
