/**
 * `dataFrom[].find` as ESO v0.20.4's AWS provider evaluates it (see shared/propagation/eso-find.ts
 * for the source lines), through the planner's public entry point. The same forms run against the
 * real ESO in test/cluster/find-conformance.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { AwsSecretStore, ExternalSecretSpec, RotatedSecret } from '../../shared/propagation/eso-types';
import { findAffectedExternalSecrets } from '../../shared/propagation/find-external-secrets';

const SECRET: RotatedSecret = {
  name: 'prod/app-team/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  tags: { team: 'app-team', tier: 'db' },
};
const STORES: AwsSecretStore[] = [
  { kind: 'SecretStore', namespace: 'shop', name: 'aws', service: 'SecretsManager', region: 'us-east-1' },
  {
    kind: 'SecretStore',
    namespace: 'shop',
    name: 'prefixed',
    service: 'SecretsManager',
    region: 'us-east-1',
    prefix: 'prod/',
  },
];
type Find = NonNullable<NonNullable<ExternalSecretSpec['dataFrom']>[number]['find']>;
type Outcome = 'matches' | 'no match' | 'sync-fails';

/** What the plan says about one ExternalSecret with `dataFrom: [{find}]` for SECRET. */
function outcome(find: Find, storeName = 'aws'): Outcome | string {
  const spec: ExternalSecretSpec = { secretStoreRef: { name: storeName }, dataFrom: [{ find }] };
  const found = findAffectedExternalSecrets(
    SECRET,
    [{ namespace: 'shop', name: 'db', apiVersion: 'external-secrets.io/v1', generation: 1, spec }],
    STORES,
  );
  if (found.length === 0) return 'no match';
  return found[0]?.refresh === 'refreshes' ? 'matches' : (found[0]?.refresh ?? 'none');
}

describe('find.name.regexp runs on RE2, as Go compiles it for ESO', () => {
  it.each<[string, string, Outcome]>([
    ['a plain pattern', '^prod/.*/db$', 'matches'],
    ['a plain pattern for another name', '^prod/.*/cache$', 'no match'],
    ['an unanchored pattern (Go MatchString)', 'app-team', 'matches'],
    ['the (?i) flag', '(?i)^PROD/APP-TEAM/', 'matches'],
    ['\\z, end of text', '^prod/app-team/db\\z', 'matches'],
    ['a POSIX class', '^[[:alpha:]]+/app-team/db$', 'matches'],
    ['a Go named group (?P<name>…)', '(?P<team>app)-team', 'matches'],
    ['an empty pattern, which matches every name', '', 'matches'],
    ['a lookahead, which Go refuses', '^prod/(?=app)', 'sync-fails'],
    ['a negative lookahead', '^prod/(?!staging)', 'sync-fails'],
    ['a lookbehind', '(?<=prod/)app', 'sync-fails'],
    ['a backreference', '(p)\\1', 'sync-fails'],
    ['a repeat count over 1000', 'a{1001}', 'sync-fails'],
    ['an unclosed group', '(', 'sync-fails'],
    ['a JavaScript-only escape', '\\u0070rod', 'sync-fails'],
  ])('%s: %j → %s', (_label, regexp, expected) => {
    expect(outcome({ name: { regexp } })).toBe(expected);
  });

  it('counts `name: {}` (no regexp at all) as matching every name, like Go’s empty pattern', () => {
    expect(outcome({ name: {} })).toBe('matches');
  });

  it('finishes the catastrophic pattern of the review quickly on a 44-character name', () => {
    const name = 'prod/app-team/abcdefghijklmnopqrstuvwxyz-abc';
    const secret = { ...SECRET, name, arn: SECRET.arn.replace('prod/app-team/db', name) };
    const spec: ExternalSecretSpec = {
      secretStoreRef: { name: 'aws' },
      dataFrom: [{ find: { name: { regexp: '^(([a-z]|[a-z/-])+)+!$' } } }],
    };
    const started = performance.now();
    const found = findAffectedExternalSecrets(
      secret,
      [{ namespace: 'shop', name: 'db', apiVersion: 'external-secrets.io/v1', generation: 1, spec }],
      STORES,
    );
    expect(name.length).toBe(44);
    expect(found).toEqual([]);
    // V8's backtracking took 43 s at 18 characters; RE2 is linear (a few ms here).
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('find.path, find.tags and the choice between them follow ESO’s AWS provider', () => {
  it.each<[string, Find, Outcome]>([
    // findByName with a path: BatchGetSecretValue with a case-sensitive prefix `name` filter.
    ['name and a path that is a prefix', { path: 'prod/', name: { regexp: 'db$' } }, 'matches'],
    ['name and another path', { path: 'prod/other/', name: { regexp: 'db$' } }, 'no match'],
    ['name and a path in other case', { path: 'Prod/', name: { regexp: 'db$' } }, 'no match'],
    ['name and a negated path (!)', { path: '!staging/', name: { regexp: 'db$' } }, 'matches'],
    // GetAllSecrets: with a name, tags are ignored.
    ['name with tags that do not match', { name: { regexp: '^prod/' }, tags: { team: 'other' } }, 'matches'],
    // findByTags: one tag-key and one tag-value filter per tag, each a prefix match on its own.
    ['a tag whose value is a prefix', { tags: { team: 'app' } }, 'matches'],
    ['a tag whose key is a prefix', { tags: { tea: 'app-team' } }, 'matches'],
    ['a tag whose value sits on another key', { tags: { tier: 'app' } }, 'matches'],
    ['two tags, each found', { tags: { team: 'app', tier: 'd' } }, 'matches'],
    ['a tag key in other case', { tags: { Team: 'app' } }, 'no match'],
    ['a tag value in other case', { tags: { team: 'App' } }, 'no match'],
    ['a tag key that is not there', { tags: { owner: 'app' } }, 'no match'],
    ['a tag value that is not there', { tags: { team: 'web' } }, 'no match'],
    ['two tags, one not found', { tags: { team: 'app', owner: 'x' } }, 'no match'],
    ['tags and a path that is a prefix', { tags: { team: 'app' }, path: 'prod/app-team/' }, 'matches'],
    ['tags and another path', { tags: { team: 'app' }, path: 'prod/other/' }, 'no match'],
    ['tags and a negated path', { tags: { team: 'app' }, path: '!prod/other/' }, 'matches'],
    // Neither name nor tags: ESO's "unexpected find operator", whatever the path.
    ['a path alone that is a prefix', { path: 'prod/app-team/' }, 'sync-fails'],
    ['a path alone and an empty tag map', { path: 'prod/', tags: {} }, 'sync-fails'],
    ['an empty find', {}, 'sync-fails'],
    ['a path alone that rules the secret out', { path: 'prod/other/' }, 'no match'],
  ])('%s: %j → %s', (_label, find, expected) => {
    expect(outcome(find)).toBe(expected);
  });

  it.each<[string, Find, Outcome]>([
    // Without a path ESO lists every secret and reads `prefix + listed name`.
    [
      'name without a path: the regexp sees the name less the prefix',
      { name: { regexp: '^app-team/db$' } },
      'matches',
    ],
    [
      'name without a path: the full name is read under a second prefix',
      { name: { regexp: '^prod/app-team/db$' } },
      'no match',
    ],
    ['name with a path: no prefix', { path: 'prod/', name: { regexp: '^prod/app-team/db$' } }, 'matches'],
    ['tags: no prefix', { tags: { team: 'app' } }, 'matches'],
  ])('through a store with prefix prod/, %s → %s', (_label, find, expected) => {
    expect(outcome(find, 'prefixed')).toBe(expected);
  });
});
