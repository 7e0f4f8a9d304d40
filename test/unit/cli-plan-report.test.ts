import { describe, expect, it } from 'vitest';
import { readOnly } from '../../cli/cluster-sources';
import { describePlan, renderPlan } from '../../cli/plan-report';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import type { AwsSecretStore, ExternalSecret } from '../../shared/propagation/eso-types';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import type { PodSpec, Workload, WorkloadKind } from '../../shared/propagation/workload-types';
import { fakeCluster } from '../support/fake-cluster';

const SECRET = {
  name: 'p/app/db',
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:p/app/db-AbCdEf',
  tags: {},
};
const STORE: AwsSecretStore = {
  kind: 'SecretStore',
  namespace: 'shop',
  name: 'aws',
  service: 'SecretsManager',
  region: 'eu-west-1',
};
const NOW = new Date('2026-11-20T12:00:00Z');

function externalSecret(name: string, spec: Partial<ExternalSecret['spec']> = {}): ExternalSecret {
  return {
    namespace: 'shop',
    name,
    apiVersion: 'external-secrets.io/v1',
    generation: 1,
    spec: {
      secretStoreRef: { name: 'aws', kind: 'SecretStore' },
      target: { name: `${name}-secret` },
      data: [{ secretKey: 'password', remoteRef: { key: SECRET.name } }],
      ...spec,
    },
  };
}

function workload(
  kind: WorkloadKind,
  name: string,
  podSpec: PodSpec,
  extra: Partial<Workload> = {},
): Workload {
  return { kind, namespace: 'shop', name, annotations: {}, podTemplateAnnotations: {}, podSpec, ...extra };
}

const envFrom = (secret: string): PodSpec => ({
  containers: [{ name: 'app', envFrom: [{ secretRef: { name: secret } }] }],
});

/** A cluster answering lists from memory; any other call (a write) fails the test. */
function cluster(externalSecrets: ExternalSecret[], workloads: Workload[]): ClusterPort {
  return fakeCluster({
    listExternalSecrets: async () => externalSecrets,
    listSecretStores: async () => [STORE],
    listWorkloads: async (ns) => workloads.filter((w) => w.namespace === ns),
  });
}

async function report(externalSecrets: ExternalSecret[], workloads: Workload[]) {
  const plan = await planPropagation(readOnly(cluster(externalSecrets, workloads)), SECRET, 'v-current');
  return describePlan('prod-eu', plan, NOW);
}

describe('describePlan: what a rotation would touch, and why', () => {
  it('lists the ExternalSecret with the reference that chose it, and its consumers with how they use it', async () => {
    const r = await report(
      [externalSecret('db')],
      [
        workload('Deployment', 'api', {
          containers: [
            { name: 'app', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db-secret' } } }] },
          ],
        }),
        workload('DaemonSet', 'shipper', {
          volumes: [{ name: 'creds', secret: { secretName: 'db-secret' } }],
        }),
        workload('Deployment', 'bystander', envFrom('other-secret')),
      ],
    );
    expect(r.externalSecrets).toEqual([
      {
        namespace: 'shop',
        name: 'db',
        targetSecret: 'db-secret',
        refresh: 'refreshes',
        reasons: ['data[password].remoteRef.key=p/app/db via SecretStore/aws'],
        restart: [
          {
            kind: 'Deployment',
            namespace: 'shop',
            name: 'api',
            reasons: ['uses Secret db-secret via env in app'],
          },
          {
            kind: 'DaemonSet',
            namespace: 'shop',
            name: 'shipper',
            reasons: ['uses Secret db-secret via volume in creds'],
          },
        ],
        skip: [],
      },
    ]);
  });

  it.each([
    [
      'an opted-out workload',
      { annotations: { 'secret-rotator.io/ignore': 'true' } },
      /annotated secret-rotator\.io\/ignore=true/,
    ],
    ['a paused Deployment', { paused: true }, /paused/],
  ])('skips %s and says why', async (_, extra, why) => {
    const r = await report(
      [externalSecret('db')],
      [workload('Deployment', 'api', envFrom('db-secret'), extra)],
    );
    expect(r.externalSecrets[0]?.restart).toEqual([]);
    expect(r.externalSecrets[0]?.skip).toEqual([
      { kind: 'Deployment', namespace: 'shop', name: 'api', why: expect.stringMatching(why) },
    ]);
  });

  it.each([
    ['CreatedOnce', { refreshPolicy: 'CreatedOnce' as const }, 'created-once'],
    ['refreshInterval 0', { refreshInterval: '0' }, 'refresh-disabled'],
  ])('never restarts consumers of an ExternalSecret ESO will not refresh (%s)', async (_, spec, refresh) => {
    const r = await report(
      [externalSecret('db', spec)],
      [workload('Deployment', 'api', envFrom('db-secret'))],
    );
    expect(r.externalSecrets[0]).toMatchObject({ refresh, restart: [] });
    expect(r.externalSecrets[0]?.skip[0]?.why).toMatch(/ESO will not refresh ExternalSecret shop\/db/);
  });

  it('renders every choice with its reason, and the totals', async () => {
    const r = await report(
      [externalSecret('db'), externalSecret('once', { refreshPolicy: 'CreatedOnce' })],
      [
        workload('Deployment', 'api', envFrom('db-secret')),
        workload('StatefulSet', 'batch', envFrom('once-secret')),
      ],
    );
    expect(renderPlan([r]).split('\n')).toEqual([
      'cluster prod-eu',
      '  ExternalSecret shop/db → Secret db-secret: resync (external-secrets.io/force-sync)',
      '    because data[password].remoteRef.key=p/app/db via SecretStore/aws',
      `    restart ${'Deployment/api'.padEnd(28)} uses Secret db-secret via envFrom in app`,
      '  ExternalSecret shop/once → Secret once-secret: not refreshed by ESO (created-once); its consumers are not restarted',
      '    because data[password].remoteRef.key=p/app/db via SecretStore/aws',
      `    skip    ${'StatefulSet/batch'.padEnd(28)} ESO will not refresh ExternalSecret shop/once (created-once), so a restart would load the old value`,
      '  total: 1 ExternalSecret(s) to resync, 1 workload(s) to restart, 1 skipped',
    ]);
  });

  it('says so when nothing in the cluster uses the secret, and reports a cluster it could not plan', () => {
    const text = renderPlan([
      { cluster: 'empty', externalSecrets: [] },
      { cluster: 'down', externalSecrets: [], error: 'connect ECONNREFUSED 10.0.0.1:443' },
    ]);
    expect(text).toContain(
      'cluster empty\n  no ExternalSecret here resolves to this secret: nothing would be touched',
    );
    expect(text).toContain('cluster down\n  could not plan: connect ECONNREFUSED 10.0.0.1:443');
  });
});

describe('readOnly cluster port', () => {
  it('refuses every write and passes reads through', async () => {
    const port = readOnly(cluster([externalSecret('db')], []));
    await expect(port.listExternalSecrets()).resolves.toHaveLength(1);
    await expect(
      port.patchWorkload({ kind: 'Deployment', namespace: 'shop', name: 'api' }, {}),
    ).rejects.toThrow(/dry run/);
    await expect(
      port.annotateExternalSecret({ kind: 'ExternalSecret', namespace: 'shop', name: 'db' }, {}),
    ).rejects.toThrow(/dry run/);
    await expect(port.annotateClusterExternalSecret('c', {})).rejects.toThrow(/dry run/);
  });
});
