import { RotationPolicyError, SecretShapeError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';
import { type PasswordPolicy, type PasswordPolicyInput, resolvePasswordPolicy } from './password-policy';
import type { RotationStrategy } from './strategy';

export type PasswordSource = (policy: PasswordPolicy) => Promise<string>;

/**
 * Regenerates the whole secret string, or only the named fields of a JSON object secret (every
 * other field is kept as it was), with passwords from GetRandomPassword.
 */
export function generatedStrategy(deps: {
  readonly passwords: PasswordSource;
  readonly deploymentPolicy: PasswordPolicyInput;
}): RotationStrategy {
  return {
    name: 'generated',
    async createValue({ secret, current }) {
      // Parsed once: for the credential check, then as the document whose fields are replaced.
      const parsed = parseJsonObject(current);
      refuseDatabaseCredential(secret, parsed);
      const policy = resolvePasswordPolicy(deps.deploymentPolicy, secret.tags);
      if (policy.fields === undefined) return deps.passwords(policy);
      const document = objectOrRefuse(secret, parsed, policy.fields);
      for (const field of policy.fields) {
        const existing = document[field];
        if (existing !== undefined && typeof existing !== 'string') {
          throw new SecretShapeError(`Field "${field}" of secret "${secret.name}" is not a string`);
        }
        document[field] = await deps.passwords(policy);
      }
      return JSON.stringify(document);
    },
    async applyToTarget() {
      // A generated secret has no external system to update.
    },
    // Nothing outside Secrets Manager learned the new value, so the previous one works as before.
    previousStillValid: async () => ({ valid: true }),
    async test({ secret, pending }) {
      const policy = resolvePasswordPolicy(deps.deploymentPolicy, secret.tags);
      if (policy.fields === undefined) {
        if (pending.length === 0) throw new SecretShapeError(`Pending value of "${secret.name}" is empty`);
        return;
      }
      const document = objectOrRefuse(secret, parseJsonObject(pending), policy.fields);
      for (const field of policy.fields) {
        const value = document[field];
        if (typeof value !== 'string' || value.length === 0) {
          throw new SecretShapeError(`Pending value of "${secret.name}" lacks a non-empty string "${field}"`);
        }
      }
    },
  };
}

/** Fields that make a JSON secret a database credential in the shape AWS documents for them. */
const CREDENTIAL_FIELDS = ['engine', 'host', 'username'] as const;

/**
 * A database credential given new random values here would change in Secrets Manager only: the
 * database would still expect the old password and every consumer would be locked out at its
 * next restart. Refused before anything is written (review M6).
 */
function refuseDatabaseCredential(secret: SecretDescription, parsed: ParsedValue): void {
  if (parsed.kind !== 'object') return;
  const { document } = parsed;
  if (CREDENTIAL_FIELDS.every((field) => typeof document[field] === 'string')) {
    throw new RotationPolicyError(
      `Secret "${secret.name}" holds a database credential (${CREDENTIAL_FIELDS.join(', ')}); the generated strategy would change it in Secrets Manager only, so the database rotation function (RotateDatabaseSecret) must rotate it. Nothing was changed`,
    );
  }
}

export type Reviver = (this: unknown, key: string, value: unknown) => unknown;

/**
 * Numbers keep their exact source text (JSON.parse source text access and JSON.rawJSON, Node 22+),
 * so re-serializing the object does not round `12345678901234567890` to `12345678901234567000` or
 * turn `1.10` into `1.1` in fields the rotation never touches (review L4).
 */
export function keepNumbersExact(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(context.source);
}

/** A secret value read as a JSON object, or why it is not one. */
type ParsedValue =
  | { readonly kind: 'object'; readonly document: Record<string, unknown> }
  | { readonly kind: 'not-json' | 'not-object' };

function parseJsonObject(value: string): ParsedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value, keepNumbersExact as Reviver);
  } catch {
    return { kind: 'not-json' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'not-object' };
  return { kind: 'object', document: parsed as Record<string, unknown> };
}

/** The JSON object whose `fields` the policy names; a value of another shape is refused. */
function objectOrRefuse(
  secret: SecretDescription,
  parsed: ParsedValue,
  fields: readonly string[],
): Record<string, unknown> {
  if (parsed.kind === 'object') return parsed.document;
  const shape = parsed.kind === 'not-json' ? 'not JSON' : 'not a JSON object';
  throw new SecretShapeError(
    `Secret "${secret.name}" is ${shape}, but its policy names fields (${fields.join(', ')})`,
  );
}
