import {
  paginateListSecrets,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import { isManaged } from '../managed-prefixes';
import type { SecretSummary } from '../sweep/secret-summary';

/** ListSecrets returns at most 100 secrets a page. */
const PAGE_SIZE = 100;

/**
 * Every secret under the managed prefixes, from paginated ListSecrets calls filtered by name prefix
 * (100 a page, so 10,000 secrets take 100 calls). Each result is checked against the prefixes
 * again, since the name filter is looser than our rule.
 */
export async function listManagedSecrets(
  client: SecretsManagerClient,
  prefixes: readonly string[],
): Promise<SecretSummary[]> {
  const pages = paginateListSecrets(
    { client, pageSize: PAGE_SIZE },
    { Filters: [{ Key: 'name', Values: [...prefixes] }], IncludePlannedDeletion: false },
  );
  const secrets: SecretSummary[] = [];
  try {
    for await (const page of pages) {
      for (const entry of page.SecretList ?? []) {
        if (entry.Name && isManaged(entry.Name, prefixes)) secrets.push(toSummary(entry));
      }
    }
  } catch (error) {
    throw toAwsCallError('ListSecrets', prefixes.join(','), error);
  }
  return secrets;
}

function toSummary(entry: SecretListEntry): SecretSummary {
  return {
    name: entry.Name ?? '',
    arn: entry.ARN ?? '',
    createdDate: entry.CreatedDate,
    lastRotatedDate: entry.LastRotatedDate,
    lastChangedDate: entry.LastChangedDate,
    nextRotationDate: entry.NextRotationDate,
    rotationEnabled: entry.RotationEnabled === true,
    rotationIntervalDays: entry.RotationRules?.AutomaticallyAfterDays,
    rotationScheduleExpression: entry.RotationRules?.ScheduleExpression,
    rotationWindow: entry.RotationRules?.Duration,
    rotationLambdaArn: entry.RotationLambdaARN,
    versionIdsToStages: entry.SecretVersionsToStages ?? {},
    tags: Object.fromEntries((entry.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
  };
}
