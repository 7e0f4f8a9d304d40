import { managedPrefixSchema } from '../config';
import * as z from '../schema';

/** The tag a secret carries to set its own maximum age, in whole days: `90`. Wins over any prefix rule. */
export const MAX_AGE_TAG = 'rotator:max-age-days';

/** Days a credential may live: 1 to 3650 (ten years). */
export const maxAgeDaysSchema = z.number().check(z.int(), z.minimum(1), z.maximum(3650));

/** One entry of `orchestrator.compliance.maxAge` in cdk.json, and of `ROTATOR_MAX_AGE_RULES`. */
export const maxAgeRuleSchema = z.strictObject({ prefix: managedPrefixSchema, days: maxAgeDaysSchema });
export type MaxAgeRule = z.infer<typeof maxAgeRuleSchema>;

/** Where a secret's maximum age comes from, for the report. */
export type MaxAgeSource = 'tag' | 'prefix' | 'default' | 'none';

/** The maximum age that applies to one secret, or why none can be read. */
export type MaxAgePolicy =
  | { readonly days: number; readonly source: 'tag' }
  | { readonly days: number; readonly source: 'prefix'; readonly prefix: string }
  | { readonly days: number; readonly source: 'default' }
  | { readonly source: 'none' }
  /** The tag is there but is not a whole number of days in range: a finding of its own. */
  | { readonly source: 'invalid-tag'; readonly error: string };

export interface MaxAgeRules {
  readonly rules: readonly MaxAgeRule[];
  /** For managed secrets no rule or tag covers. Absent: no maximum age. */
  readonly defaultDays?: number;
}

const TAG_VALUE = z.pipe(
  z.string().check(z.regex(/^\d+$/)),
  z.pipe(
    z.transform((value: string) => Number.parseInt(value, 10)),
    maxAgeDaysSchema,
  ),
);

/**
 * The maximum age of a secret: its `rotator:max-age-days` tag, else the rule with the longest
 * matching prefix, else the default. Independent of the rotation schedule. Names the tag in an
 * error, never its value.
 * @example maxAgePolicyFor('prod/app/db', {}, { rules: [{ prefix: 'prod/', days: 90 }] }) // { days: 90, source: 'prefix', prefix: 'prod/' }
 */
export function maxAgePolicyFor(
  name: string,
  tags: Readonly<Record<string, string>>,
  config: MaxAgeRules,
): MaxAgePolicy {
  const raw = tags[MAX_AGE_TAG];
  if (raw !== undefined) {
    const parsed = TAG_VALUE.safeParse(raw.trim());
    return parsed.success
      ? { days: parsed.data, source: 'tag' }
      : { source: 'invalid-tag', error: `Tag ${MAX_AGE_TAG} must be a whole number of days from 1 to 3650` };
  }
  const rule = [...config.rules]
    .filter((r) => name.startsWith(r.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  if (rule) return { days: rule.days, source: 'prefix', prefix: rule.prefix };
  if (config.defaultDays !== undefined) return { days: config.defaultDays, source: 'default' };
  return { source: 'none' };
}
