import { ConfigError } from './errors';
import { type PasswordPolicyInput, passwordPolicyInputSchema } from './rotation/password-policy';
import * as z from './schema';

/**
 * A managed prefix is matched literally against secret names, exactly as IAM matches
 * `secret:<prefix>*`. Wildcards are refused so the two can never disagree.
 */
export const managedPrefixSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(256),
    z.regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may contain only the characters Secrets Manager allows in names'),
  );

/** A comma-separated list in one environment variable; blanks around items and empty items dropped. */
export const commaList = z.pipe(
  z.string(),
  z.transform((value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
);

/** `ROTATOR_MANAGED_PREFIXES`, as every function reads it: at least one valid prefix. */
export const managedPrefixesVariable = z.pipe(
  z.pipe(
    z.string({ error: 'is required (comma-separated secret-name prefixes, e.g. "prod/app-team/")' }),
    commaList,
  ),
  z.array(managedPrefixSchema).check(z.minLength(1, 'must name at least one prefix')),
);

/** A whole number in one environment variable, from `min` to `max`. */
export const wholeNumberVariable = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));

/** JSON text in one environment variable, parsed; text that is not JSON is an issue, never a throw. */
export const jsonText = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // zod/mini's transform context has no addIssue: the issue goes on the payload itself.
      ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
      return z.NEVER;
    }
  }),
);

/**
 * Parses a function's environment with `schema` once, at cold start, failing with a
 * {@link ConfigError} that names every bad variable.
 */
export function parseEnvironment<T extends z.ZodMiniType>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * A function's environment as infra writes it: every value a string, none undefined. CDK tokens
 * (a table name, an ARN resolved at deploy time) pass through as their string form.
 */
export type FunctionEnvironment = Record<string, string>;

/**
 * `settings` without the fields set to undefined, so that spreading it over a function's defaults
 * keeps a default wherever a caller passed an optional prop through unset.
 */
export function definedOnly<T extends object>(settings: T): T {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as T;
}

const MS_PER = { seconds: 1000, minutes: 60_000 } as const;

/**
 * `ms` as a whole number of `unit`, the way a `…_SECONDS` or `…_MINUTES` variable holds it; a
 * fraction is refused when infra writes the variable, not at the function's cold start.
 * @example wholeUnitsOf(300_000, 'seconds', 'ROTATOR_SYNC_TIMEOUT_SECONDS') // '300'
 */
export function wholeUnitsOf(ms: number, unit: keyof typeof MS_PER, variable: string): string {
  const units = ms / MS_PER[unit];
  if (!Number.isInteger(units)) throw new ConfigError(`${variable} takes whole ${unit}, not ${ms} ms`);
  return String(units);
}

/** The rotation function's environment: the variables it parses at cold start. */
export const rotationEnvSchema = z.object({
  ROTATOR_MANAGED_PREFIXES: managedPrefixesVariable,
  ROTATOR_DEFAULT_PASSWORD_POLICY: z.optional(z.pipe(jsonText, passwordPolicyInputSchema)),
  /** The database rotation function only: TLS for database secrets that do not say. */
  ROTATOR_DATABASE_TLS_BY_DEFAULT: z._default(
    z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
    'false',
  ),
  /** The database rotation function only: trust Amazon RDS's CA certificates for TLS too. */
  ROTATOR_DATABASE_RDS_CERTIFICATES: z._default(
    z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
    'true',
  ),
});

export interface RotationConfig {
  readonly managedPrefixes: readonly string[];
  /** Deployment-wide policy; a secret's `rotator:*` tags override it field by field. */
  readonly defaultPasswordPolicy: PasswordPolicyInput;
  /** TLS to databases whose secret does not say (the database rotation function). Default: false. */
  readonly databaseTlsByDefault?: boolean;
  /** Trust Amazon RDS's CA certificates for that TLS (the database rotation function). Default: true. */
  readonly databaseRdsCertificates?: boolean;
}

/**
 * Reads the rotation function's configuration once, at cold start, and fails fast with a message
 * that names every bad variable.
 */
export function loadRotationConfig(env: Readonly<Record<string, string | undefined>>): RotationConfig {
  const c = parseEnvironment(rotationEnvSchema, env);
  return {
    managedPrefixes: c.ROTATOR_MANAGED_PREFIXES,
    defaultPasswordPolicy: c.ROTATOR_DEFAULT_PASSWORD_POLICY ?? {},
    databaseTlsByDefault: c.ROTATOR_DATABASE_TLS_BY_DEFAULT === 'true',
    databaseRdsCertificates: c.ROTATOR_DATABASE_RDS_CERTIFICATES === 'true',
  };
}

/** What infra sets for the rotation function; a policy left out means the built-in one. */
export interface RotationSettings {
  readonly managedPrefixes: readonly string[];
  readonly defaultPasswordPolicy?: PasswordPolicyInput;
  readonly databaseTlsByDefault?: boolean;
  readonly databaseRdsCertificates?: boolean;
}

/**
 * The rotation function's environment for `settings`, the inverse of {@link loadRotationConfig}.
 * @example new NodejsFunction(this, 'RotateSecret', { environment: rotationEnvironment({ managedPrefixes: ['prod/'] }) })
 */
export function rotationEnvironment(settings: RotationSettings): FunctionEnvironment {
  return {
    ROTATOR_MANAGED_PREFIXES: settings.managedPrefixes.join(','),
    ...(settings.defaultPasswordPolicy && {
      ROTATOR_DEFAULT_PASSWORD_POLICY: JSON.stringify(settings.defaultPasswordPolicy),
    }),
    ...(settings.databaseTlsByDefault !== undefined && {
      ROTATOR_DATABASE_TLS_BY_DEFAULT: String(settings.databaseTlsByDefault),
    }),
    ...(settings.databaseRdsCertificates !== undefined && {
      ROTATOR_DATABASE_RDS_CERTIFICATES: String(settings.databaseRdsCertificates),
    }),
  };
}
