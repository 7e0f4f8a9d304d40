/**
 * How ESO's AWS Secrets Manager provider answers `dataFrom[].find`, as read in external-secrets
 * v0.20.4 (pkg/provider/aws/secretsmanager/secretsmanager.go):
 *
 * - GetAllSecrets (317-325): `name` set → findByName, and `tags` are then ignored; otherwise
 *   non-empty `tags` → findByTags; otherwise (path alone, or nothing) the error
 *   "unexpected find operator".
 * - findByName (327-375): `regexp.Compile(name.regexp)` (pkg/find/find.go:34; an empty regexp
 *   matches every name), matched unanchored (`MatchString`, find.go:45). With `path`,
 *   BatchGetSecretValue with a `name` filter set to the path (334-344, 668-697). Without, ListSecrets
 *   over every secret, then each matching name is read through `fetch`, which puts the store's
 *   `prefix` in front of it (147): the secret read is `prefix + listed name`.
 * - findByTags (377-403): for each tag, one `tag-key` filter with the key and one `tag-value` filter
 *   with the value; `path` adds a `name` filter; BatchGetSecretValue; no prefix.
 * - AWS applies each filter on its own and all of them together (AWS API reference, `Filter`):
 *   `name`, `tag-key` and `tag-value` are case-sensitive prefix matches, so `{team: app}` matches a
 *   secret tagged `team=app-team`, and `{tier: app}` one tagged `tier=db, team=app`. A value that
 *   starts with `!` negates its filter.
 * - The controller (pkg/controllers/externalsecret/externalsecret_controller_secret.go:78-104) runs
 *   `find` in preference to `extract` in one dataFrom entry, and any error fails the sync of the
 *   whole ExternalSecret: nothing in its Secret changes.
 */
import type { AwsSecretStore, ExternalSecretSpec, RotatedSecret } from './eso-types';
import type { NameMatcher, RegexpProblem } from './find-name-regexp';

export type EsoFind = NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['find']>;

/** Why ESO fails an ExternalSecret's sync on this find. */
export type FindRefusal = 'no-find-operator' | 'regexp-invalid';

export interface FindVerdict {
  /**
   * Whether the find reads the secret. For a refused find, whether it could: what can be evaluated
   * (its path, the store prefix) does not rule the secret out.
   */
  readonly selects: boolean;
  /** Set when ESO fails the ExternalSecret's sync on this find. */
  readonly refused?: FindRefusal;
  /** Set when the regexp was not evaluated (too long): it counts as selecting. */
  readonly unevaluated?: 'regexp-too-long';
}

/** Whether ESO's `find` through `store` reads `secret`, or why ESO refuses it. */
export function evaluateFind(
  find: EsoFind,
  store: AwsSecretStore,
  secret: RotatedSecret,
  compile: (pattern: string) => NameMatcher | RegexpProblem,
): FindVerdict {
  const pathAdmits = find.path === undefined || filterAdmits(find.path, [secret.name]);
  if (find.name !== undefined) {
    // With a path, BatchGetSecretValue returns the secret by its own name; without one, ESO reads
    // `prefix + listed name`, so the secret is read when a listed name equal to its name less the
    // prefix matches.
    const prefix = find.path === undefined ? (store.prefix ?? '') : '';
    const listed = secret.name.startsWith(prefix) ? secret.name.slice(prefix.length) : undefined;
    const candidate = pathAdmits && listed !== undefined;
    const matcher = compile(find.name.regexp ?? '');
    if (matcher === 'regexp-invalid') return { selects: candidate, refused: 'regexp-invalid' };
    if (matcher === 'regexp-too-long') return { selects: candidate, unevaluated: 'regexp-too-long' };
    return { selects: candidate && matcher(listed ?? '') };
  }
  const tags = Object.entries(find.tags ?? {});
  if (tags.length === 0) return { selects: pathAdmits, refused: 'no-find-operator' };
  const keys = Object.keys(secret.tags);
  const values = Object.values(secret.tags);
  return {
    selects:
      pathAdmits && tags.every(([key, value]) => filterAdmits(key, keys) && filterAdmits(value, values)),
  };
}

/**
 * One AWS filter value against an attribute's values: a case-sensitive prefix match on any of them.
 * A negated value (`!x`) is documented without saying how it treats several tags; this reads it as
 * "no tag, or some tag that does not start with x", the wider of the two readings (moto's is "some
 * tag that does not start with x"), so the planner errs towards resyncing.
 */
function filterAdmits(filter: string, values: readonly string[]): boolean {
  if (filter.startsWith('!')) {
    const negated = filter.slice(1);
    return values.length === 0 || values.some((value) => !value.startsWith(negated));
  }
  return values.some((value) => value.startsWith(filter));
}
