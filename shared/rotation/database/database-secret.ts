import { SecretShapeError } from '../../errors';
import * as z from '../../schema';
import { keepNumbersExact, type Reviver } from '../generated-strategy';

/** The engines AWS names in database secrets, by the protocol we speak to them. */
export const ENGINE_FAMILIES = {
  postgres: 'postgres',
  postgresql: 'postgres',
  'aurora-postgresql': 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  aurora: 'mysql',
  'aurora-mysql': 'mysql',
} as const satisfies Record<string, EngineFamily>;

export type EngineFamily = 'postgres' | 'mysql';

const port = z.union([
  z.number().check(z.int(), z.minimum(1), z.maximum(65_535)),
  z.string().check(z.regex(/^\d{1,5}$/)),
]);
const flag = z.union([z.boolean(), z.enum(['true', 'false'])]);

/**
 * The JSON AWS documents for database secrets, plus `ssl` (`true`/`false`, as AWS's templates read
 * it) and `sslmode` (libpq's names). Unknown fields are kept as they are by the strategies.
 */
const databaseSecretSchema = z.object({
  engine: z.string().check(z.minLength(1)),
  host: z.string().check(z.minLength(1), z.maxLength(253)),
  port: z.optional(port),
  username: z.string().check(z.minLength(1)),
  password: z.string(),
  dbname: z.optional(z.string().check(z.minLength(1))),
  masterarn: z.optional(z.string().check(z.minLength(1))),
  ssl: z.optional(flag),
  sslmode: z.optional(z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])),
});

export interface DatabaseSecret {
  readonly family: EngineFamily;
  readonly host: string;
  readonly port: number | undefined;
  readonly username: string;
  readonly password: string;
  readonly dbname: string | undefined;
  readonly masterarn: string | undefined;
  /** TLS asked for by the secret (`ssl: true` or an sslmode from `require` up); `undefined` when it says nothing. */
  readonly tls: boolean | undefined;
  /** The whole parsed object, numbers kept exact, for writing back with only some fields changed. */
  readonly document: Readonly<Record<string, unknown>>;
}

/** The engine family an `engine` field names; `undefined` when it names none we rotate. */
export function engineFamily(engine: unknown): EngineFamily | undefined {
  if (typeof engine !== 'string') return undefined;
  return Object.hasOwn(ENGINE_FAMILIES, engine)
    ? ENGINE_FAMILIES[engine as keyof typeof ENGINE_FAMILIES]
    : undefined;
}

/** The parsed JSON object of a value; `undefined` when the value is not a JSON object. */
export function parseJsonObject(value: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(value, keepNumbersExact as Reviver);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses one version of a database secret. The error names the secret, the version and the bad
 * fields, never a value.
 * @example parseDatabaseSecret('{"engine":"postgres","host":"db","username":"app","password":"…"}', 'prod/db', 'AWSCURRENT')
 */
export function parseDatabaseSecret(value: string, secretName: string, stage: string): DatabaseSecret {
  const document = parseJsonObject(value);
  if (document === undefined) {
    throw new SecretShapeError(`The ${stage} value of "${secretName}" is not a JSON object`);
  }
  // Exact numbers come back as raw JSON objects; the schema reads them as the numbers they are.
  const plain = JSON.parse(value) as unknown;
  const parsed = databaseSecretSchema.safeParse(plain);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'value'))];
    throw new SecretShapeError(
      `The ${stage} value of "${secretName}" is not a database secret (bad or missing: ${fields.join(', ')})`,
    );
  }
  const family = engineFamily(parsed.data.engine);
  if (family === undefined) {
    throw new SecretShapeError(`The ${stage} value of "${secretName}" names an engine no strategy rotates`);
  }
  return {
    family,
    host: parsed.data.host,
    port: parsed.data.port === undefined ? undefined : Number(parsed.data.port),
    username: parsed.data.username,
    password: parsed.data.password,
    dbname: parsed.data.dbname,
    masterarn: parsed.data.masterarn,
    tls: tlsAskedFor(parsed.data.ssl, parsed.data.sslmode),
    document,
  };
}

function tlsAskedFor(
  ssl: boolean | 'true' | 'false' | undefined,
  sslmode: string | undefined,
): boolean | undefined {
  if (ssl !== undefined) return ssl === true || ssl === 'true';
  if (sslmode === undefined) return undefined;
  return ['require', 'verify-ca', 'verify-full'].includes(sslmode);
}

/** AWS's naming for alternating users: `app` ⇄ `app_clone`. */
export const CLONE_SUFFIX = '_clone';

/** The user the next alternating rotation logs in as. */
export function alternateUsername(username: string): string {
  return username.endsWith(CLONE_SUFFIX)
    ? username.slice(0, -CLONE_SUFFIX.length)
    : `${username}${CLONE_SUFFIX}`;
}

/** The user whose privileges the clone copies: the name without `_clone`. */
export function originalUsername(username: string): string {
  return username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : username;
}
