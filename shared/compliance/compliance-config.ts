import { jsonText, parseEnvironment, wholeNumberVariable } from '../config';
import { checkPrefixRules } from '../managed-prefixes';
import * as z from '../schema';
import { type MaxAgeRules, maxAgeDaysSchema, maxAgeRuleSchema } from './max-age-policy';

/** The freshness objective's default: one hour from AWSCURRENT moving to the last consumer verified. */
export const DEFAULT_FRESHNESS_OBJECTIVE_MINUTES = 60;

/**
 * `orchestrator.compliance` in cdk.json: maximum ages by prefix (the longest prefix wins; a
 * secret's `rotator:max-age-days` tag wins over any rule), a default for the rest, and the
 * propagation freshness objective the `PropagationFreshness` alarm watches.
 * @example { "maxAge": [{ "prefix": "prod/", "days": 90 }], "defaultMaxAgeDays": 365, "freshnessObjectiveMinutes": 60 }
 */
export const complianceConfigSchema = z.strictObject({
  maxAge: z._default(z.array(maxAgeRuleSchema), []),
  defaultMaxAgeDays: z.optional(maxAgeDaysSchema),
  /** Minutes from AWSCURRENT moving to the last consumer verified; a slower propagation alarms. */
  freshnessObjectiveMinutes: z._default(
    z.number().check(z.int(), z.minimum(1), z.maximum(10_080)),
    DEFAULT_FRESHNESS_OBJECTIVE_MINUTES,
  ),
});
export type ComplianceConfig = z.infer<typeof complianceConfigSchema>;

/**
 * The issues of a compliance configuration against the managed prefixes, for the deployment
 * parser's superRefine. `path` leads to the compliance object.
 */
export function checkComplianceConfig(
  compliance: ComplianceConfig | undefined,
  managedPrefixes: readonly string[],
  ctx: { addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[] }): void },
  path: readonly PropertyKey[],
): void {
  if (compliance) checkPrefixRules(compliance.maxAge, managedPrefixes, ctx, [...path, 'maxAge']);
}

/**
 * The CLI's environment for `rotator report`: `ROTATOR_MAX_AGE_RULES` (the `maxAge` array of
 * cdk.json, as JSON) and `ROTATOR_DEFAULT_MAX_AGE_DAYS`. Rules outside the managed prefixes are
 * refused, as the deployment refuses them.
 */
const complianceEnvSchema = z.object({
  ROTATOR_MAX_AGE_RULES: z._default(z.pipe(jsonText, z.array(maxAgeRuleSchema)), []),
  ROTATOR_DEFAULT_MAX_AGE_DAYS: z.optional(wholeNumberVariable(1, 3650)),
});

/** What infra or an operator sets for the CLI and functions, the inverse of {@link loadMaxAgeRules}. */
export function maxAgeEnvironment(rules: MaxAgeRules): Record<string, string> {
  return {
    ...(rules.rules.length > 0 && { ROTATOR_MAX_AGE_RULES: JSON.stringify(rules.rules) }),
    ...(rules.defaultDays !== undefined && { ROTATOR_DEFAULT_MAX_AGE_DAYS: String(rules.defaultDays) }),
  };
}

/**
 * Reads the maximum-age rules from the environment once, failing fast with a ConfigError that names
 * every bad variable (and every rule outside `managedPrefixes`).
 */
export function loadMaxAgeRules(
  env: Readonly<Record<string, string | undefined>>,
  managedPrefixes: readonly string[],
): MaxAgeRules {
  const schema = complianceEnvSchema.check(
    z.superRefine((c, ctx) =>
      checkPrefixRules(c.ROTATOR_MAX_AGE_RULES, managedPrefixes, ctx, ['ROTATOR_MAX_AGE_RULES']),
    ),
  );
  const c = parseEnvironment(schema, env);
  return {
    rules: c.ROTATOR_MAX_AGE_RULES,
    ...(c.ROTATOR_DEFAULT_MAX_AGE_DAYS !== undefined && { defaultDays: c.ROTATOR_DEFAULT_MAX_AGE_DAYS }),
  };
}
