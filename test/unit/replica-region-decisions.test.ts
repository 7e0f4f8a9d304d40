import { describe, expect, it } from 'vitest';
import type { AwsSecretStore, ExternalSecret, ExternalSecretSpec } from '../../shared/propagation/eso-types';
import {
  arnInRegion,
  findAffectedExternalSecrets,
  findOtherRegionReferences,
} from '../../shared/propagation/find-external-secrets';
import { type ReplicaVerdict, replicaVerdict, splitByReplicas } from '../../shared/propagation/replica-sync';

const SECRET = {
  name: 'prod/app/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
  tags: {},
};
const store = (name: string, region: string): AwsSecretStore => ({
  kind: 'SecretStore',
  namespace: 'shop',
  name,
  service: 'SecretsManager',
  region,
});
const STORES = [store('us', 'us-east-1'), store('eu', 'eu-west-1'), store('ap', 'ap-south-1')];
const es = (name: string, spec: ExternalSecretSpec): ExternalSecret => ({
  namespace: 'shop',
  name,
  apiVersion: 'external-secrets.io/v1',
  generation: 1,
  spec,
});
const byKey = (storeName: string, key = SECRET.name): ExternalSecretSpec => ({
  secretStoreRef: { name: storeName },
  data: [{ secretKey: 'password', remoteRef: { key } }],
});
const REPLICATED = { replicaRegions: ['eu-west-1'] };

describe('arnInRegion', () => {
  it('changes the region only, keeping the name and its suffix', () => {
    expect(arnInRegion(SECRET.arn, 'eu-west-1')).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf',
    );
  });
});

describe('findAffectedExternalSecrets with replica regions', () => {
  it('counts a store in a replica region, by name and by the replica ARN, and says which region', () => {
    const found = findAffectedExternalSecrets(
      SECRET,
      [es('by-name', byKey('eu')), es('by-arn', byKey('eu', arnInRegion(SECRET.arn, 'eu-west-1')))],
      STORES,
      REPLICATED,
    );
    expect(found.map((f) => [f.externalSecret.name, f.replicaRegions])).toEqual([
      ['by-name', ['eu-west-1']],
      ['by-arn', ['eu-west-1']],
    ]);
    expect(found[0]?.reasons[0]).toContain('SecretStore/eu (eu-west-1)');
  });

  it('gives a store in the primary region no replica region', () => {
    const [found] = findAffectedExternalSecrets(SECRET, [es('us', byKey('us'))], STORES, REPLICATED);
    expect(found?.replicaRegions).toEqual([]);
  });

  it('does not count the primary ARN through a replica store, nor any store of an unreplicated region', () => {
    const found = findAffectedExternalSecrets(
      SECRET,
      [es('primary-arn', byKey('eu', SECRET.arn)), es('ap', byKey('ap'))],
      STORES,
      REPLICATED,
    );
    expect(found).toEqual([]);
  });

  it('without replica regions, keeps stores of other regions out as before', () => {
    expect(findAffectedExternalSecrets(SECRET, [es('eu', byKey('eu'))], STORES)).toEqual([]);
  });

  it('lists every replica region of an ExternalSecret that reads the primary and a replica', () => {
    const spec: ExternalSecretSpec = {
      secretStoreRef: { name: 'us' },
      data: [
        { secretKey: 'a', remoteRef: { key: SECRET.name } },
        { secretKey: 'b', remoteRef: { key: SECRET.name }, sourceRef: { storeRef: { name: 'eu' } } },
      ],
    };
    const [found] = findAffectedExternalSecrets(SECRET, [es('both', spec)], STORES, REPLICATED);
    expect(found?.replicaRegions).toEqual(['eu-west-1']);
    expect(found?.reasons).toHaveLength(2);
  });
});

describe('findOtherRegionReferences', () => {
  it('reports the ExternalSecrets that name the secret through a region it is not in', () => {
    const found = findOtherRegionReferences(
      SECRET,
      [es('us', byKey('us')), es('eu', byKey('eu')), es('ap', byKey('ap')), es('other', byKey('ap', 'x'))],
      STORES,
      REPLICATED,
    );
    expect(found.map((f) => [f.externalSecret.name, f.regions])).toEqual([['ap', ['ap-south-1']]]);
    expect(found[0]?.reasons[0]).toContain('SecretStore/ap (ap-south-1)');
  });

  it('reports a replica region as other when the secret is not replicated there', () => {
    const found = findOtherRegionReferences(SECRET, [es('eu', byKey('eu'))], STORES);
    expect(found.map((f) => f.regions)).toEqual([['eu-west-1']]);
  });
});

describe('replicaVerdict', () => {
  const v2 = '22222222-2222-2222-2222-222222222222';
  const v1 = '11111111-1111-1111-1111-111111111111';
  const eu = (status: string, statusMessage?: string) => ({ region: 'eu-west-1', status, statusMessage });

  it.each<
    [string, ReturnType<typeof eu> | undefined, Record<string, string[]> | undefined, ReplicaVerdict['state']]
  >([
    [
      'the replica has the version as AWSCURRENT',
      eu('InSync'),
      { [v2]: ['AWSCURRENT'], [v1]: ['AWSPREVIOUS'] },
      'current',
    ],
    [
      'AWSCURRENT there, even while the status still says InProgress',
      eu('InProgress'),
      { [v2]: ['AWSCURRENT'] },
      'current',
    ],
    ['the replica still has the old version current', eu('InProgress'), { [v1]: ['AWSCURRENT'] }, 'lagging'],
    [
      'InSync but the version is there without AWSCURRENT yet',
      eu('InSync'),
      { [v2]: ['AWSPENDING'], [v1]: ['AWSCURRENT'] },
      'lagging',
    ],
    ['replication failed', eu('Failed', 'KMS key not found'), { [v1]: ['AWSCURRENT'] }, 'failed'],
    ['the region is no longer a replica', undefined, undefined, 'failed'],
  ])('%s', (_name, replica, stages, state) => {
    expect(replicaVerdict(v2, replica, stages).state).toBe(state);
  });

  it('names the status, its message and what the replica holds, without secret values', () => {
    const verdict = replicaVerdict(v2, eu('InProgress', 'copying'), { [v1]: ['AWSCURRENT'] });
    expect(verdict).toEqual({
      state: 'lagging',
      detail: `replication InProgress: copying; its AWSCURRENT is ${v1}, not ${v2}`,
    });
  });
});

describe('splitByReplicas', () => {
  const lagging: ReplicaVerdict = { state: 'lagging', detail: 'behind' };
  const current: ReplicaVerdict = { state: 'current' };
  const failed: ReplicaVerdict = { state: 'failed', detail: 'replication Failed' };

  it('resyncs primary readers and current replicas now, holds lagging ones, fails failed ones', () => {
    const split = splitByReplicas(
      [
        { key: 'shop/us' },
        { key: 'shop/eu', replicaRegions: ['eu-west-1'] },
        { key: 'shop/ca', replicaRegions: ['ca-central-1'] },
        { key: 'shop/ap', replicaRegions: ['ap-south-1'] },
      ],
      new Map<string, ReplicaVerdict>([
        ['eu-west-1', lagging],
        ['ca-central-1', current],
        ['ap-south-1', failed],
      ]),
    );
    expect(split.ready).toEqual(['shop/us', 'shop/ca']);
    expect(split.held).toEqual(['shop/eu']);
    expect([...split.failed]).toEqual([['shop/ap', { region: 'ap-south-1', detail: 'replication Failed' }]]);
  });

  it('holds the siblings of a held child of a ClusterExternalSecret (its annotation resyncs them all)', () => {
    const split = splitByReplicas(
      [
        { key: 'a/db', owner: 'db', replicaRegions: ['eu-west-1'] },
        { key: 'b/db', owner: 'db' },
        { key: 'c/other', owner: 'other' },
      ],
      new Map([['eu-west-1', lagging]]),
    );
    expect(split.held).toEqual(['a/db', 'b/db']);
    expect(split.ready).toEqual(['c/other']);
  });

  it('holds a target whose region was not looked at', () => {
    expect(splitByReplicas([{ key: 'x/y', replicaRegions: ['eu-west-1'] }], new Map()).held).toEqual(['x/y']);
  });
});
