/** A secret's staging labels by version id, as DescribeSecret and ListSecrets return them. */
export type VersionStages = Readonly<Record<string, readonly string[]>>;

/**
 * The version holding a staging label; `undefined` when none does. Secrets Manager gives each
 * label to at most one version.
 * @example versionWith({ a: ['AWSPREVIOUS'], b: ['AWSCURRENT'] }, 'AWSCURRENT') // 'b'
 */
export function versionWith(versionIdsToStages: VersionStages, stage: string): string | undefined {
  return Object.entries(versionIdsToStages).find(([, stages]) => stages.includes(stage))?.[0];
}

/** The version holding AWSPENDING without AWSCURRENT (a rotation that started and did not finish), if any. */
export function unfinishedPendingVersion(versionIdsToStages: VersionStages): string | undefined {
  return Object.entries(versionIdsToStages).find(
    ([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
  )?.[0];
}
