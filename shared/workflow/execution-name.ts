import { createHash } from 'node:crypto';

const MAX_NAME = 80;
/** Version ids Secrets Manager generates (UUIDs); any other id (a client token) is hashed. */
const PLAIN_VERSION = /^[A-Za-z0-9-]{32,36}$/;

/**
 * The Step Functions execution name for one AWSCURRENT move of a secret version: Step Functions
 * refuses a second execution with the same name (for 90 days), so the same move cannot propagate
 * twice at once, while the same version made current again (a rollback, move n+1) gets its own.
 * A readable slug of the secret name, 8 hex of its ARN's hash (two secrets may share a slug), the
 * version id (or `h` + 32 hex of its hash when it is not a plain UUID-like id: client tokens may hold
 * characters execution names refuse), `m<move>`, and an optional suffix (reconcile attempts, so a
 * failed move can be retried). Always at most 80 characters of `[A-Za-z0-9_-]`.
 * @example executionName('prod/app/db', arn, '6f1c…', 2) // 'prod-app-db-1a2b3c4d-6f1c…-m2'
 */
export function executionName(
  secretName: string,
  secretArn: string,
  versionId: string,
  moveSeq: number,
  suffix?: string,
): string {
  const hash = createHash('sha256').update(secretArn).digest('hex').slice(0, 8);
  const version = PLAIN_VERSION.test(versionId)
    ? versionId
    : `h${createHash('sha256').update(versionId).digest('hex').slice(0, 32)}`;
  const tail = `-${hash}-${version}-m${moveSeq}${suffix ? `-${suffix.replace(/[^A-Za-z0-9_-]/g, '')}` : ''}`;
  const slug = secretName
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, Math.max(0, MAX_NAME - tail.length));
  return `${slug}${tail}`.slice(-MAX_NAME);
}
