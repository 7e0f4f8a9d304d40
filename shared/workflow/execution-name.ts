import { createHash } from 'node:crypto';

const MAX_NAME = 80;

/**
 * The Step Functions execution name for one secret version: Step Functions refuses a second
 * execution with the same name (for 90 days), so the same version cannot propagate twice at once.
 * A readable slug of the secret name, 8 hex of its ARN's hash (two secrets may share a slug), the
 * version id, and an optional suffix (reconcile attempts, so a failed version can be retried).
 * @example executionName('prod/app/db', arn, '6f1c…') // 'prod-app-db-1a2b3c4d-6f1c…'
 */
export function executionName(
  secretName: string,
  secretArn: string,
  versionId: string,
  suffix?: string,
): string {
  const hash = createHash('sha256').update(secretArn).digest('hex').slice(0, 8);
  const tail = `-${hash}-${versionId}${suffix ? `-${suffix}` : ''}`;
  const slug = secretName
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, Math.max(0, MAX_NAME - tail.length));
  return `${slug}${tail}`.slice(-MAX_NAME);
}
