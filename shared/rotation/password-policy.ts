import { RotationPolicyError } from '../errors';
import * as z from '../schema';

/** Characters that commonly break connection strings, shells and URLs. */
export const DEFAULT_EXCLUDED_CHARACTERS = `"'\`\\/@$%&:;?#`;

/** Tag keys a secret can carry to override the deployment's policy. */
export const POLICY_TAGS = {
  strategy: 'rotator:strategy',
  length: 'rotator:length',
  excludeCharacters: 'rotator:exclude-characters',
  excludePunctuation: 'rotator:exclude-punctuation',
  excludeUppercase: 'rotator:exclude-uppercase',
  excludeLowercase: 'rotator:exclude-lowercase',
  excludeNumbers: 'rotator:exclude-numbers',
  includeSpace: 'rotator:include-space',
  requireEachIncludedType: 'rotator:require-each-included-type',
  fields: 'rotator:fields',
} as const;

export const passwordPolicyInputSchema = z.strictObject({
  length: z.optional(z.number().check(z.int(), z.minimum(8), z.maximum(4096))),
  excludeCharacters: z.optional(z.string().check(z.maxLength(4096))),
  excludePunctuation: z.optional(z.boolean()),
  excludeUppercase: z.optional(z.boolean()),
  excludeLowercase: z.optional(z.boolean()),
  excludeNumbers: z.optional(z.boolean()),
  includeSpace: z.optional(z.boolean()),
  requireEachIncludedType: z.optional(z.boolean()),
  /** JSON fields to regenerate; absent means the whole secret string is one password. */
  fields: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.minLength(1))),
});

export type PasswordPolicyInput = z.infer<typeof passwordPolicyInputSchema>;

export interface PasswordPolicy {
  readonly length: number;
  readonly excludeCharacters: string;
  readonly excludePunctuation: boolean;
  readonly excludeUppercase: boolean;
  readonly excludeLowercase: boolean;
  readonly excludeNumbers: boolean;
  readonly includeSpace: boolean;
  readonly requireEachIncludedType: boolean;
  readonly fields: readonly string[] | undefined;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  length: 32,
  excludeCharacters: DEFAULT_EXCLUDED_CHARACTERS,
  excludePunctuation: false,
  excludeUppercase: false,
  excludeLowercase: false,
  excludeNumbers: false,
  includeSpace: false,
  requireEachIncludedType: true,
  fields: undefined,
};

const booleanTag = z.pipe(
  z.enum(['true', 'false']),
  z.transform((value: 'true' | 'false') => value === 'true'),
);
const tagSchemas = {
  length: z.pipe(z.string().check(z.regex(/^\d+$/, 'must be a whole number')), z.transform(Number)),
  excludeCharacters: z.string(),
  excludePunctuation: booleanTag,
  excludeUppercase: booleanTag,
  excludeLowercase: booleanTag,
  excludeNumbers: booleanTag,
  includeSpace: booleanTag,
  requireEachIncludedType: booleanTag,
  // Tag values cannot hold commas, so fields are separated by spaces.
  fields: z.pipe(
    z.string(),
    z.transform((value: string) => value.split(/\s+/).filter((field) => field.length > 0)),
  ),
} as const;

/** Reads the `rotator:*` policy tags of a secret. Unknown `rotator:` tags are ignored. */
export function policyFromTags(tags: Readonly<Record<string, string>>): PasswordPolicyInput {
  const input: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(tagSchemas)) {
    const key = POLICY_TAGS[field as keyof typeof tagSchemas];
    const raw = tags[key];
    if (raw === undefined) continue;
    const parsed = schema.safeParse(raw.trim());
    if (!parsed.success) {
      throw new RotationPolicyError(`Tag ${key} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
    }
    input[field] = parsed.data;
  }
  const checked = passwordPolicyInputSchema.safeParse(input);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const key = POLICY_TAGS[issue?.path[0] as keyof typeof tagSchemas] ?? 'rotator:*';
    throw new RotationPolicyError(`Tag ${key} ${issue?.message ?? 'is invalid'}`);
  }
  return checked.data;
}

/**
 * The policy for one secret: safe defaults, then the deployment's configuration, then the
 * secret's own tags.
 */
export function resolvePasswordPolicy(
  deploymentPolicy: PasswordPolicyInput,
  tags: Readonly<Record<string, string>>,
): PasswordPolicy {
  const policy = {
    ...DEFAULT_PASSWORD_POLICY,
    ...withoutUndefined(deploymentPolicy),
    ...policyFromTags(tags),
  };
  if (
    policy.excludeUppercase &&
    policy.excludeLowercase &&
    policy.excludeNumbers &&
    policy.excludePunctuation
  ) {
    throw new RotationPolicyError('The password policy excludes every character class');
  }
  return policy;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
