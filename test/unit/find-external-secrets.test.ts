import { describe, expect, it } from 'vitest';
import type {
  AwsSecretStore,
  ExternalSecret,
  ExternalSecretSpec,
  RotatedSecret,
} from '../../shared/propagation/eso-types';
import {
  findAffectedExternalSecrets,
  notRefreshingReason,
  refreshBehaviour,
} from '../../shared/propagation/find-external-secrets';

const SECRET: RotatedSecret = {
  name: 'prod/app-team/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  tags: { team: 'app', tier: 'db' },
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
  { kind: 'SecretStore', namespace: 'shop', name: 'params', service: 'ParameterStore', region: 'us-east-1' },
  { kind: 'SecretStore', namespace: 'shop', name: 'eu', service: 'SecretsManager', region: 'eu-west-1' },
  {
    kind: 'ClusterSecretStore',
    namespace: '',
    name: 'global',
    service: 'SecretsManager',
    region: 'us-east-1',
  },
];

function es(spec: ExternalSecretSpec, name = 'db', namespace = 'shop'): ExternalSecret {
  return { namespace, name, apiVersion: 'external-secrets.io/v1', generation: 1, spec };
}
const store = { name: 'aws' };
const data = (key: string, extra: object = {}) => [{ secretKey: 'password', remoteRef: { key, ...extra } }];

describe('findAffectedExternalSecrets', () => {
  it.each<[string, ExternalSecretSpec]>([
    ['data remoteRef.key by name', { secretStoreRef: store, data: data('prod/app-team/db') }],
    ['data remoteRef.key by ARN', { secretStoreRef: store, data: data(SECRET.arn) }],
    [
      'data with version AWSCURRENT',
      { secretStoreRef: store, data: data('prod/app-team/db', { version: 'AWSCURRENT' }) },
    ],
    ['dataFrom extract.key', { secretStoreRef: store, dataFrom: [{ extract: { key: 'prod/app-team/db' } }] }],
    ['a store prefix', { secretStoreRef: { name: 'prefixed' }, data: data('app-team/db') }],
    [
      'a ClusterSecretStore',
      { secretStoreRef: { name: 'global', kind: 'ClusterSecretStore' }, data: data('prod/app-team/db') },
    ],
    [
      'find by name regexp',
      { secretStoreRef: store, dataFrom: [{ find: { name: { regexp: '^prod/.*/db$' } } }] },
    ],
    ['find by tags', { secretStoreRef: store, dataFrom: [{ find: { tags: { team: 'app' } } }] }],
    [
      'a per-item sourceRef store',
      {
        secretStoreRef: { name: 'params' },
        data: [{ secretKey: 'p', remoteRef: { key: 'prod/app-team/db' }, sourceRef: { storeRef: store } }],
      },
    ],
  ])('matches %s', (_name, spec) => {
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.externalSecret.name).toBe('db');
    expect(match?.reasons.length).toBeGreaterThan(0);
  });

  it.each<[string, ExternalSecretSpec]>([
    ['another key', { secretStoreRef: store, data: data('prod/app-team/cache') }],
    ['a key prefix of the name', { secretStoreRef: store, data: data('prod/app-team/d') }],
    ['a ParameterStore store', { secretStoreRef: { name: 'params' }, data: data('prod/app-team/db') }],
    ['a store in another region', { secretStoreRef: { name: 'eu' }, data: data('prod/app-team/db') }],
    ['a store that does not exist', { secretStoreRef: { name: 'missing' }, data: data('prod/app-team/db') }],
    ['a pinned version', { secretStoreRef: store, data: data('prod/app-team/db', { version: 'uuid/1234' }) }],
    [
      'a pinned AWSPREVIOUS',
      { secretStoreRef: store, dataFrom: [{ extract: { key: 'prod/app-team/db', version: 'AWSPREVIOUS' } }] },
    ],
    ['a prefix applied twice', { secretStoreRef: { name: 'prefixed' }, data: data('prod/app-team/db') }],
    ['find with other tags', { secretStoreRef: store, dataFrom: [{ find: { tags: { team: 'other' } } }] }],
    ['no store at all', { data: data('prod/app-team/db') }],
  ])('does not match %s', (_name, spec) => {
    expect(findAffectedExternalSecrets(SECRET, [es(spec)], STORES)).toEqual([]);
  });

  it('does not use a SecretStore of another namespace', () => {
    const other = es({ secretStoreRef: store, data: data('prod/app-team/db') }, 'db', 'billing');
    expect(findAffectedExternalSecrets(SECRET, [other], STORES)).toEqual([]);
  });

  it('names the target Secret, defaulting to the ExternalSecret name', () => {
    const found = findAffectedExternalSecrets(
      SECRET,
      [
        es({ secretStoreRef: store, data: data('prod/app-team/db') }, 'plain'),
        es({ secretStoreRef: store, target: { name: 'db-creds' }, data: data('prod/app-team/db') }, 'named'),
      ],
      STORES,
    );
    expect(found.map((f) => f.targetSecret)).toEqual(['plain', 'db-creds']);
  });

  it('explains every matching reference', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: data('prod/app-team/db'),
      dataFrom: [{ extract: { key: SECRET.arn } }],
    };
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.reasons).toEqual([
      'data[password].remoteRef.key=prod/app-team/db via SecretStore/aws',
      `dataFrom[0].extract.key=${SECRET.arn} via SecretStore/aws`,
    ]);
  });
});

describe('findAffectedExternalSecrets with a find ESO refuses', () => {
  const lookahead = '^prod/(?=app)';

  it('reports the ExternalSecret as sync-fails with a typed reason that does not quote the pattern', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      dataFrom: [{ find: { name: { regexp: lookahead } } }],
    };
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.refresh).toBe('sync-fails');
    expect(match?.findRefusals).toEqual([{ index: 0, refusal: 'regexp-invalid' }]);
    expect(match?.reasons.join('\n')).not.toContain('(?=');
    expect(match && notRefreshingReason(match)).toBe(
      'ESO fails its sync: dataFrom[0].find is refused by ESO: its name.regexp does not compile in RE2 as ' +
        'ESO compiles it (Go regexp); its consumers are not restarted',
    );
  });

  it('fails the whole ExternalSecret when a refused find sits beside a reference that resolves', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      data: data('prod/app-team/db'),
      dataFrom: [{ find: { path: 'prod/other/' } }],
    };
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.refresh).toBe('sync-fails');
    expect(match?.findRefusals).toEqual([{ index: 0, refusal: 'no-find-operator' }]);
  });

  it('keeps evaluating the other ExternalSecrets of the plan', () => {
    const broken = es({ secretStoreRef: store, dataFrom: [{ find: { name: { regexp: '(' } } }] }, 'broken');
    const fine = es({ secretStoreRef: store, data: data('prod/app-team/db') }, 'fine');
    const found = findAffectedExternalSecrets(SECRET, [broken, fine], STORES);
    expect(found.map((f) => [f.externalSecret.name, f.refresh])).toEqual([
      ['broken', 'sync-fails'],
      ['fine', 'refreshes'],
    ]);
  });

  it('keeps created-once when ESO would not refresh it anyway', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      refreshPolicy: 'CreatedOnce',
      dataFrom: [{ find: { name: { regexp: lookahead } } }],
    };
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.refresh).toBe('created-once');
    expect(match && notRefreshingReason(match)).toBe(
      'ESO will not refresh it (created-once); its consumers are not restarted',
    );
  });

  it('counts a regexp over the length cap as matching, and says it was not evaluated', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      dataFrom: [{ find: { name: { regexp: `${'x'.repeat(1001)}` } } }],
    };
    const [match] = findAffectedExternalSecrets(SECRET, [es(spec)], STORES);
    expect(match?.refresh).toBe('refreshes');
    expect(match?.reasons).toEqual([
      'dataFrom[0].find.name.regexp is longer than 1000 characters: not evaluated, counted as matching via SecretStore/aws',
    ]);
  });

  it('runs a find in preference to an extract in the same dataFrom entry, as ESO does', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: store,
      dataFrom: [{ find: { name: { regexp: '^prod/other/' } }, extract: { key: 'prod/app-team/db' } }],
    };
    expect(findAffectedExternalSecrets(SECRET, [es(spec)], STORES)).toEqual([]);
  });
});

describe('refreshBehaviour', () => {
  it.each<[ExternalSecretSpec, string]>([
    [{}, 'refreshes'],
    [{ refreshInterval: '1h' }, 'refreshes'],
    [{ refreshPolicy: 'Periodic', refreshInterval: '15m' }, 'refreshes'],
    [{ refreshPolicy: 'OnChange', refreshInterval: '0' }, 'refreshes'],
    [{ refreshPolicy: 'CreatedOnce' }, 'created-once'],
    [{ refreshInterval: '0' }, 'refresh-disabled'],
    [{ refreshPolicy: 'Periodic', refreshInterval: '0s' }, 'refresh-disabled'],
  ])('%j → %s', (spec, expected) => {
    expect(refreshBehaviour(es(spec))).toBe(expected);
  });
});
