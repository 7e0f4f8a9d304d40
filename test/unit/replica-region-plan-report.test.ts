import { describe, expect, it } from 'vitest';
import { describePlan, renderPlan } from '../../cli/plan-report';
import type { AwsSecretStore, ExternalSecret } from '../../shared/propagation/eso-types';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import { fakeCluster } from '../support/fake-cluster';

const SECRET = {
  name: 'p/app/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:p/app/db-AbCdEf',
  tags: {},
};
const store = (name: string, region: string): AwsSecretStore => ({
  kind: 'SecretStore',
  namespace: 'shop',
  name,
  service: 'SecretsManager',
  region,
});
const es = (name: string, storeName: string): ExternalSecret => ({
  namespace: 'shop',
  name,
  apiVersion: 'external-secrets.io/v1',
  generation: 1,
  spec: {
    secretStoreRef: { name: storeName },
    target: { name: `${name}-secret` },
    data: [{ secretKey: 'password', remoteRef: { key: SECRET.name } }],
  },
});
const cluster = fakeCluster({
  listExternalSecrets: async () => [es('us', 'us'), es('eu', 'eu'), es('ap', 'ap')],
  listSecretStores: async () => [
    store('us', 'us-east-1'),
    store('eu', 'eu-west-1'),
    store('ap', 'ap-south-1'),
  ],
  listWorkloads: async () => [],
});

describe('rotator plan with a replicated secret', () => {
  it('says which ExternalSecret waits for its replica and which is not synced at all', async () => {
    const plan = await planPropagation(cluster, SECRET, 'v', { replicaRegions: ['eu-west-1'] });
    const report = describePlan('c', plan, new Date('2026-11-20T12:00:00Z'));
    expect(report.externalSecrets.map((e) => [e.name, e.replicaRegions])).toEqual([
      ['us', undefined],
      ['eu', ['eu-west-1']],
    ]);
    expect(report.notSynced?.map((n) => [n.name, n.regions])).toEqual([['ap', ['ap-south-1']]]);
    const text = renderPlan([report]).split('\n');
    expect(text).toContain(
      '  ExternalSecret shop/eu → Secret eu-secret: resync (external-secrets.io/force-sync) once the replica in eu-west-1 has the new version',
    );
    expect(text).toContain(
      "  ExternalSecret shop/ap: not resynced: it reads the secret's name in ap-south-1, where the secret is not replicated",
    );
    expect(text).toContain(
      '    because data[password].remoteRef.key=p/app/db via SecretStore/ap (ap-south-1)',
    );
    expect(text.at(-1)).toBe(
      '  total: 2 ExternalSecret(s) to resync, 0 workload(s) to restart, 0 skipped, 1 not synced (unreplicated region)',
    );
  });

  it('without replicas, reports the replica-region store as not synced', async () => {
    const report = describePlan('c', await planPropagation(cluster, SECRET, 'v'), new Date());
    expect(report.externalSecrets.map((e) => e.name)).toEqual(['us']);
    expect(report.notSynced?.map((n) => n.name)).toEqual(['eu', 'ap']);
  });
});
