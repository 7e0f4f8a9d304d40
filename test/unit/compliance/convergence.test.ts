import { describe, expect, it } from 'vitest';
import { auditConvergence, goDurationMs, lags } from '../../../shared/compliance/convergence';
import type { PodInfo } from '../../../shared/compliance/pod-lister';
import type { ExternalSecret } from '../../../shared/propagation/eso-types';
import type { AffectedExternalSecret } from '../../../shared/propagation/find-external-secrets';
import type { PropagationPlan } from '../../../shared/propagation/propagation-plan';
import type { Workload, WorkloadKind } from '../../../shared/propagation/workload-types';

const MOVED = new Date('2026-12-01T10:00:00.400Z');
const at = (time: string) => new Date(`2026-12-01T${time}Z`);

function es(status: ExternalSecret['syncStatus'], refreshInterval = '1h'): ExternalSecret {
  return {
    namespace: 'shop',
    name: 'db',
    apiVersion: 'external-secrets.io/v1',
    generation: 1,
    spec: { refreshInterval },
    syncStatus: status,
  };
}
const ready = (refreshTime: string) => ({
  refreshTime: `2026-12-01T${refreshTime}Z`,
  ready: { status: 'True', reason: 'SecretSynced' },
});
const workload = (kind: WorkloadKind, name: string): Workload => ({
  kind,
  namespace: 'shop',
  name,
  annotations: {},
  podTemplateAnnotations: {},
  podSpec: {},
});
function plan(
  externalSecret: ExternalSecret,
  workloads: Workload[],
  refresh: 'refreshes' | 'created-once' = 'refreshes',
): PropagationPlan {
  const target = {
    // Cast: fields added to AffectedExternalSecret later (replica regions) do not matter here.
    affected: {
      externalSecret,
      targetSecret: 'db-secret',
      reasons: [],
      refresh,
      findRefusals: [],
    } as unknown as AffectedExternalSecret,
    consumers: workloads.map((w) => ({ workload: w, reasons: [] })),
    skipped: [],
  };
  // Only the parts the audit reads; other fields of the plan (added by other features) are left out.
  return {
    secret: { name: 'prod/db', arn: 'arn', tags: {} },
    versionId: 'v',
    resync: refresh === 'refreshes' ? [target] : [],
    notRefreshing: refresh === 'refreshes' ? [] : [target],
  } as unknown as PropagationPlan;
}
const pod = (name: string, created: string, owner?: PodInfo['owner'], templateHash?: string): PodInfo => ({
  namespace: 'shop',
  name,
  createdAt: at(created),
  terminating: false,
  ...(owner ? { owner } : {}),
  ...(templateHash ? { templateHash } : {}),
});

const WORKLOADS = [
  workload('Deployment', 'api'),
  workload('Rollout', 'canary'),
  workload('StatefulSet', 'worker'),
  workload('Job', 'migrate'),
  workload('Pod', 'debug'),
  workload('CronJob', 'nightly'),
  workload('DaemonSet', 'agent'),
];
/** Each workload's pod started at `time`; a bystander's pod (another ReplicaSet) is old. */
const podsAt = (time: string) =>
  new Map([
    [
      'shop',
      [
        pod('api-7d9f-x1', time, { kind: 'ReplicaSet', name: 'api-7d9f' }, '7d9f'),
        pod('canary-5c5c-x1', time, { kind: 'ReplicaSet', name: 'canary-5c5c' }, '5c5c'),
        pod('worker-0', time, { kind: 'StatefulSet', name: 'worker' }),
        pod('migrate-abcde', time, { kind: 'Job', name: 'migrate' }),
        pod('debug', time),
        pod('api-other-66-x', '09:00:00', { kind: 'ReplicaSet', name: 'api-other-66' }, '66'),
      ],
    ],
  ]);
const states = (audit: ReturnType<typeof auditConvergence>) =>
  Object.fromEntries((audit[0]?.consumers ?? []).map((c) => [`${c.kind}/${c.name}`, c.state]));

describe('auditConvergence', () => {
  it('finds every kind’s pods through its controller and judges them against the sync', () => {
    const synced = plan(es(ready('10:00:05')), WORKLOADS);
    expect(states(auditConvergence(synced, podsAt('10:00:06'), MOVED))).toEqual({
      'Deployment/api': 'converged',
      'Rollout/canary': 'converged',
      'StatefulSet/worker': 'converged',
      'Job/migrate': 'converged',
      'Pod/debug': 'converged',
      'CronJob/nightly': 'next-run',
      'DaemonSet/agent': 'no-pods',
    });
    const old = auditConvergence(synced, podsAt('10:00:04'), MOVED);
    expect(Object.values(states(old)).filter((s) => s === 'lagging')).toHaveLength(5);
    expect(old[0]?.consumers[0]).toMatchObject({ laggingPods: ['api-7d9f-x1'], laggingCount: 1, pods: 1 });
    expect(lags(old)).toBe(true);
  });

  it('counts a pod created in the sync’s own second as after it (both are whole seconds)', () => {
    const audit = auditConvergence(
      plan(es(ready('10:00:05')), [WORKLOADS[0] as Workload]),
      podsAt('10:00:05'),
      MOVED,
    );
    expect(states(audit)).toEqual({ 'Deployment/api': 'converged' });
    expect(lags(audit)).toBe(false);
  });

  it.each([
    ['no refresh since the move', es(ready('09:59:59')), 'stale'],
    ['a refresh in the second of the move', es(ready('10:00:00')), 'synced'],
    [
      'ESO failing',
      es({ refreshTime: '2026-12-01T10:00:05Z', ready: { status: 'False', reason: 'SecretSyncedError' } }),
      'failing',
    ],
    ['no status at all', es(undefined), 'stale'],
  ])('%s: %s', (_what, externalSecret, state) => {
    const [audit] = auditConvergence(
      plan(externalSecret, [WORKLOADS[0] as Workload]),
      podsAt('10:30:00'),
      MOVED,
    );
    expect(audit?.sync.state).toBe(state);
    expect(audit?.consumers[0]?.state).toBe(state === 'synced' ? 'converged' : 'waiting-for-sync');
  });

  it('reports an ExternalSecret ESO never refreshes as lagging', () => {
    const audit = auditConvergence(plan(es(ready('10:00:05')), [], 'created-once'), new Map(), MOVED);
    expect(audit[0]?.sync.state).toBe('not-refreshing');
    expect(lags(audit)).toBe(true);
  });

  it('judges pods against the move when ESO has refreshed again since the first sync after it', () => {
    // Refreshed every minute: the 10:05 refresh is not the first after the 10:00 move.
    const [audit] = auditConvergence(
      plan(es(ready('10:05:00'), '1m'), [WORKLOADS[0] as Workload]),
      podsAt('10:01:00'),
      MOVED,
    );
    expect(audit?.sync).toMatchObject({ state: 'synced', since: MOVED.toISOString(), approximate: true });
    expect(audit?.consumers[0]?.state).toBe('converged');
    const [first] = auditConvergence(
      plan(es(ready('10:00:30'), '1m'), [WORKLOADS[0] as Workload]),
      podsAt('10:00:10'),
      MOVED,
    );
    expect(first?.sync).toEqual({
      state: 'synced',
      refreshTime: '2026-12-01T10:00:30Z',
      since: '2026-12-01T10:00:30Z',
    });
    expect(first?.consumers[0]?.state).toBe('lagging');
  });
});

describe('goDurationMs', () => {
  it.each([
    ['1h', 3_600_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['0', 0],
    ['1.5h', 5_400_000],
    ['soon', undefined],
    ['1h and more', undefined],
    [undefined, undefined],
  ])('%s is %s ms', (text, ms) => {
    expect(goDurationMs(text)).toBe(ms);
  });
});

describe('an ExternalSecret that reads a replica region', () => {
  const replicaPlan = (regions: string[]) => {
    const p = plan(es(ready('10:05:00')), [workload('Deployment', 'api')]);
    const target = p.resync[0];
    if (!target) throw new Error('no target');
    const affected = { ...target.affected, replicaRegions: regions };
    return { ...p, resync: [{ ...target, affected }] } as PropagationPlan;
  };
  const pods = new Map([
    ['shop', [pod('api-abc-1', '10:06:00', { kind: 'ReplicaSet', name: 'api-abc' }, 'abc')]],
  ]);

  it('is synced only once the replica holds the version as AWSCURRENT, whatever ESO refreshed', () => {
    const lagging = new Map([
      [
        'eu-west-1',
        { state: 'lagging' as const, detail: 'replication InProgress; its AWSCURRENT is v1, not v2' },
      ],
    ]);
    const [audit] = auditConvergence(replicaPlan(['eu-west-1']), pods, MOVED, lagging);
    expect(audit?.sync).toMatchObject({ state: 'replica-behind', replicaRegions: ['eu-west-1'] });
    expect(audit?.sync.reason).toContain('eu-west-1');
    expect(audit?.sync.reason).toContain('InProgress');
    expect(audit?.consumers[0]?.state).toBe('waiting-for-sync');
    expect(lags(audit ? [audit] : [])).toBe(true);

    const current = new Map([['eu-west-1', { state: 'current' as const }]]);
    const [synced] = auditConvergence(replicaPlan(['eu-west-1']), pods, MOVED, current);
    expect(synced?.sync).toMatchObject({ state: 'synced', replicaRegions: ['eu-west-1'] });
    expect(synced?.consumers[0]?.state).toBe('converged');
  });

  it('counts a replica nobody looked at as behind (never synced by default)', () => {
    const [audit] = auditConvergence(replicaPlan(['eu-west-1']), pods, MOVED, new Map());
    expect(audit?.sync.state).toBe('replica-behind');
  });
});
