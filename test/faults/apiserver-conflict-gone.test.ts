/**
 * Fault rows V, W and X: three answers a real kube-apiserver gives the propagation's calls, from
 * the status fault proxy (scripts/faults/kube-fault-proxy.ts, registered as the EKS endpoint as in
 * row E) or from the API server itself after a real deletion.
 * - V, 409 Conflict on a merge PATCH (no resourceVersion: the server's own update retries ran out
 *   under contention): the restart PATCH (the adapter retries 409 itself, 5 attempts) and the
 *   ExternalSecret's force-sync PATCH. Must: retried, converged, one restart per workload, no alert.
 * - W, 410 Gone on a list (the pager restarts it, up to 3 times): on a continue page and on a first
 *   page. Must: no consumer missed or doubled, no failure.
 * - X, 404 Not Found for an object deleted since it was read: an ExternalSecret deleted between Plan
 *   and Resync or CheckSync, a consumer deleted between the restart step's LIST and its PATCH (row J
 *   covers one deleted before that LIST). Must: skipped, not a failure, named in the outcome.
 * Each row ends with the fault removed, the reconcile, the oracle, then the row's own contract.
 */
import { AppsV1Api, BatchV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import {
  type KubeFaultProxy,
  type KubeFaultRule,
  startKubeFaultProxy,
} from '../../scripts/faults/kube-fault-proxy';
import { mapWithLimit } from '../../shared/concurrency';
import { eksEndpointThrough, faultHarness } from '../support/fault-harness';
import { expectOracle, FAULT_SEED, faultRow, type RowSecret } from '../support/fault-matrix';

/** Awaited before each Lambda task with its payload (row X deletes there). */
let beforeStep: ((payload: { action?: string }) => Promise<void>) | undefined;
const wf = faultHarness({
  restartConcurrency: 2,
  beforeInvoke: async (_arn, payload) => {
    await beforeStep?.(payload as { action?: string });
  },
});

let proxy: KubeFaultProxy | undefined;
const faults = () => {
  if (!proxy) throw new Error('kube fault proxy not started');
  return proxy;
};
eksEndpointThrough(
  async () => {
    proxy = await startKubeFaultProxy({
      upstream: inject('clusterServer'),
      caFile: inject('clusterCaFile'),
      seed: FAULT_SEED,
    });
    return proxy.server;
  },
  () => proxy?.stop(),
);

/** The adapter's attempts at a restart PATCH answered 409 (CONFLICT_RETRIES in kubernetes-adapter.ts). */
const CONFLICT_ATTEMPTS = 5;
/** Restarts of a list after 410 (MAX_RESTARTS in paginate.ts): one more expiry fails the list. */
const LIST_RESTARTS = 3;
/** The step's page size (PAGE_SIZE in paginate.ts): a list longer than this has a continue page. */
const PAGE_SIZE = 500;

const esPath = (ns: string) => `/apis/external-secrets.io/v1/namespaces/${ns}/externalsecrets/db`;
const deploymentsPath = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`;
const injected = (status: number, from: number) =>
  faults()
    .log.slice(from)
    .filter((e) => e.injected === status);
/**
 * The row's first executions (`row.run` of each rotation): how many succeeded and, for each that
 * failed, its cluster's failure lines from the ledger (what an operator reads), for the notes.
 */
function firstRuns(row: ReturnType<typeof faultRow>, s: RowSecret) {
  let succeeded = 0;
  const failed: string[] = [];
  return {
    async run(versionId: string) {
      const execution = await row.run(s, versionId);
      if (execution.status === 'SUCCEEDED') succeeded++;
      else failed.push(`${execution.name}: ${(await outcomeOf(s)).failed.join(' | ')}`);
      return execution;
    },
    succeeded: () => succeeded,
    summary: () =>
      `${succeeded}/${succeeded + failed.length} first executions succeeded` +
      failed.map((f) => `; ${f}`).join(''),
  };
}

/** The newest propagation's cluster outcome, every list in it as one text (what names an object). */
async function outcomeOf(s: RowSecret) {
  const { entry, restarted, failed } = await wf.propagation(s.secretId);
  const cluster = entry.clusters?.[0];
  return { restarted, failed, nextPod: cluster?.nextPod ?? [], text: JSON.stringify(cluster ?? {}) };
}

describe('fault matrix, API server 409, 410 and 404 (status fault proxy, real deletions)', () => {
  it('V-restart: 409 on restart PATCHes (4 in a row, then 30 %): retried, one restart each', async () => {
    const row = faultRow(wf, 'V-restart', 'apiserver 409 on restart PATCHes: 4 in a row, then 30 %');
    const s = await row.secret('restart', ['api', 'web', 'worker']);
    const patches = { methods: ['PATCH'], path: new RegExp(`^${deploymentsPath(s.namespace)}/`) };
    const runs = firstRuns(row, s);
    const from = faults().log.length;
    let burst = 0;
    // Not scaled by FAULT_SCALE (the long tier's per-unit count stays as measured); 3 rotations.
    for (let round = 0; round < 3; round++) {
      const before = await Promise.all(s.workloads.map((w) => wf.podTemplate(s.namespace, w)));
      const mark = faults().log.length;
      // Round 0: the first restart PATCH refused once less than the adapter's attempts.
      const rule: KubeFaultRule =
        round === 0
          ? { ...patches, rate: 1, status: 409, times: CONFLICT_ATTEMPTS - 1 }
          : { ...patches, rate: 0.3, status: 409 };
      faults().setRules([rule]);
      await runs.run(await row.rotate(s));
      faults().setRules([]);
      if (round === 0) burst = injected(409, mark).length;
      // One rollout per workload and move: each template changed once (a resend with another
      // restartedAt would bump the generation twice).
      const after = await Promise.all(s.workloads.map((w) => wf.podTemplate(s.namespace, w)));
      expect(after.map((a, i) => (a.generation ?? 0) - (before[i]?.generation ?? 0))).toEqual(
        s.workloads.map(() => 1),
      );
    }
    row.note(
      `${injected(409, from).length} restart PATCHes answered 409 (${burst} in a row); ${runs.summary()}`,
    );
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(burst).toBe(CONFLICT_ATTEMPTS - 1);
    expect(runs.succeeded()).toBe(3);
    expect(result.failures).toBe(0);
  });

  it('V-sync: 409 on the force-sync PATCH of the ExternalSecret, once: retried, no failure', async () => {
    const row = faultRow(wf, 'V-sync', 'apiserver 409 on the force-sync PATCH, once per rotation');
    const s = await row.secret('sync');
    const runs = firstRuns(row, s);
    const from = faults().log.length;
    for (let round = 0; round < 2; round++) {
      faults().setRules([
        {
          methods: ['PATCH'],
          path: new RegExp(`^${esPath(s.namespace)}\\?`),
          rate: 1,
          status: 409,
          times: 1,
        },
      ]);
      await runs.run(await row.rotate(s));
      faults().setRules([]);
    }
    row.note(`${injected(409, from).length} force-sync PATCHes answered 409; ${runs.summary()}`);
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(injected(409, from)).toHaveLength(2);
    // The contract: a conflict on a merge patch is retried (STYLE rule 5), not a failed propagation.
    expect(runs.succeeded(), runs.summary()).toBe(2);
    expect(result.failures).toBe(0);
  });

  it('V-burst: 409 on a restart PATCH once more than the adapter tries: the Retry takes it', async () => {
    const row = faultRow(
      wf,
      'V-burst',
      `apiserver 409 on restart PATCHes, ${CONFLICT_ATTEMPTS + 1} in a row`,
    );
    const s = await row.secret('burst');
    const runs = firstRuns(row, s);
    const from = faults().log.length;
    const patches = { methods: ['PATCH'], path: new RegExp(`^${deploymentsPath(s.namespace)}/`) };
    faults().setRules([{ ...patches, rate: 1, status: 409, times: CONFLICT_ATTEMPTS + 1 }]);
    await runs.run(await row.rotate(s));
    faults().setRules([]);
    row.note(`${injected(409, from).length} restart PATCHes answered 409; ${runs.summary()}`);
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    // The fault bit past the adapter's own attempts (the last 409 is left if nothing retries after them).
    expect(injected(409, from).length).toBeGreaterThanOrEqual(CONFLICT_ATTEMPTS);
    // A few seconds of contention are what the state machine's Retry (2 s doubling) is for.
    expect(runs.succeeded(), runs.summary()).toBe(1);
    expect(result.failures).toBe(0);
  });

  it('W-continue: 410 on a continue page, 3 times per list: no consumer missed or doubled', async () => {
    const row = faultRow(
      wf,
      'W-continue',
      `apiserver 410 on a CronJob list's continue page, ${LIST_RESTARTS}× per list`,
    );
    const s = await row.secret('continue');
    const batch = wf.fx.admin.makeApiClient(BatchV1Api);
    const cronJob = (name: string, consumes: boolean) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name, namespace: s.namespace },
      spec: {
        schedule: '0 0 1 1 *',
        suspend: true,
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'job',
                    image: 'job:1',
                    ...(consumes ? { envFrom: [{ secretRef: { name: 'db-secret' } }] } : {}),
                  },
                ],
              },
            },
          },
        },
      },
    });
    // Suspended CronJobs cost no controller work. The list is in name order: one consumer on the
    // first page (a-…), PAGE_SIZE fillers, one consumer on the continue page (zz-…).
    const consumers = ['a-report', 'zz-report'];
    const fillers = Array.from({ length: PAGE_SIZE }, (_, i) => `m-filler-${String(i).padStart(3, '0')}`);
    await mapWithLimit([...consumers, ...fillers], 16, (name) =>
      batch.createNamespacedCronJob({
        namespace: s.namespace,
        body: cronJob(name, consumers.includes(name)),
      }),
    );
    const continued = new RegExp(`^/apis/batch/v1/namespaces/${s.namespace}/cronjobs\\?.*continue=`);
    const runs = firstRuns(row, s);
    const from = faults().log.length;
    for (let round = 0; round < 2; round++) {
      const mark = faults().log.length;
      faults().setRules([{ methods: ['GET'], path: continued, rate: 1, status: 410, times: LIST_RESTARTS }]);
      await runs.run(await row.rotate(s));
      faults().setRules([]);
      expect(injected(410, mark)).toHaveLength(LIST_RESTARTS);
      // The continue page was read in the end, once the expiries were spent.
      expect(
        faults()
          .log.slice(mark)
          .some((e) => !e.injected && continued.test(e.path)),
      ).toBe(true);
      const { nextPod } = await outcomeOf(s);
      for (const name of consumers) {
        expect(nextPod.filter((line) => line.startsWith(`CronJob/${s.namespace}/${name}:`))).toHaveLength(1);
      }
      expect(nextPod.filter((line) => line.includes('m-filler-'))).toEqual([]);
    }
    row.note(`${injected(410, from).length} continue pages answered 410 over 2 lists; ${runs.summary()}`);
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(runs.succeeded(), runs.summary()).toBe(2);
    expect(result.failures).toBe(0);
  });

  it('W-first: 410 on the ExternalSecret list first page, 3 times: the plan still finds it', async () => {
    const row = faultRow(
      wf,
      'W-first',
      `apiserver 410 on the ExternalSecret list's first page, ${LIST_RESTARTS}×`,
    );
    const s = await row.secret('first');
    const firstPage = /^\/apis\/external-secrets\.io\/v1\/externalsecrets\?limit=500$/;
    const runs = firstRuns(row, s);
    const from = faults().log.length;
    for (let round = 0; round < 2; round++) {
      faults().setRules([{ methods: ['GET'], path: firstPage, rate: 1, status: 410, times: LIST_RESTARTS }]);
      await runs.run(await row.rotate(s));
      faults().setRules([]);
    }
    row.note(`${injected(410, from).length} first pages answered 410 over 2 plans; ${runs.summary()}`);
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(injected(410, from)).toHaveLength(2 * LIST_RESTARTS);
    expect(runs.succeeded(), runs.summary()).toBe(2);
    expect(result.failures).toBe(0);
  });

  it.each([
    ['X-resync', 'resync', 'between Plan and Resync'],
    ['X-checksync', 'check-sync', 'between Resync and CheckSync'],
  ] as const)(
    '%s: an ExternalSecret deleted %s: skipped, not a failure, named',
    async (name, action, when) => {
      const row = faultRow(wf, name, `ExternalSecret deleted ${when} (404)`);
      const s = await row.secret('es');
      // A second namespace reading the same secret: its ExternalSecret is the one deleted.
      const gone = await wf.consumers(s.secretId, ['other']);
      const custom = wf.fx.admin.makeApiClient(CustomObjectsApi);
      const es = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' };
      const ref = { ...es, namespace: gone, name: 'db' };
      let deleted = false;
      beforeStep = async (payload) => {
        if (payload.action !== action || deleted || !JSON.stringify(payload).includes(gone)) return;
        deleted = true;
        await custom.deleteNamespacedCustomObject(ref);
        await wf.fx.eventually(`${gone}/db deleted`, () =>
          custom.getNamespacedCustomObject(ref).then(
            () => undefined,
            () => true,
          ),
        );
      };
      const runs = firstRuns(row, s);
      try {
        await runs.run(await row.rotate(s));
      } finally {
        beforeStep = undefined;
      }
      const outcome = await outcomeOf(s);
      row.note(runs.summary());
      await row.quiesce();
      const result = await row.oracle();
      expectOracle(result);
      expect(deleted).toBe(true);
      // The contract: the deleted ExternalSecret is skipped and named, its consumers (whose Secret
      // goes with it) not restarted; the rest of the move succeeds.
      expect(runs.succeeded(), runs.summary()).toBe(1);
      expect(outcome.failed).toEqual([]);
      expect(outcome.restarted.filter((r) => r.includes(`/${gone}/`))).toEqual([]);
      expect(outcome.text).toContain(`ExternalSecret/${gone}/db`);
    },
  );

  it('X-consumer: a consumer deleted between the restart LIST and its PATCH: skipped, named', async () => {
    const row = faultRow(
      wf,
      'X-consumer',
      'consumer Deployment deleted between the restart LIST and its PATCH (404)',
    );
    // The first pending consumer in list order is the first restarted (the canary): the victim.
    const victim = 'api';
    const s = await row.secret('consumer', [victim, 'web', 'worker']);
    const apps = wf.fx.admin.makeApiClient(AppsV1Api);
    const list = new RegExp(`^${deploymentsPath(s.namespace)}\\?`);
    let armed = false;
    let deleted = false;
    let victimPatch: number | undefined;
    beforeStep = async (payload) => {
      if (payload.action === 'advance-restarts' && !deleted) armed = true;
    };
    // After the API server answered the restart step's LIST (the victim in it), before the step reads it.
    faults().setAnsweredHook(async (call) => {
      if (call.method === 'PATCH' && call.path.startsWith(`${deploymentsPath(s.namespace)}/${victim}?`))
        victimPatch = call.status;
      if (!armed || call.method !== 'GET' || !list.test(call.path)) return;
      armed = false;
      deleted = true;
      await apps.deleteNamespacedDeployment({ namespace: s.namespace, name: victim });
      await wf.fx.eventually(`${victim} deleted`, () =>
        apps.readNamespacedDeployment({ namespace: s.namespace, name: victim }).then(
          () => undefined,
          () => true,
        ),
      );
    });
    const runs = firstRuns(row, s);
    try {
      await runs.run(await row.rotate(s));
    } finally {
      beforeStep = undefined;
      faults().setAnsweredHook(undefined);
    }
    row.forget(s, victim);
    const outcome = await outcomeOf(s);
    row.note(
      `victim's PATCH answered ${victimPatch}; restarted [${outcome.restarted.join(', ')}], failed ${outcome.failed.length}; ` +
        `victim named in the outcome: ${outcome.text.includes(victim)}; ${runs.summary()}`,
    );
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect(victimPatch).toBe(404);
    expect(runs.succeeded(), runs.summary()).toBe(1);
    expect(outcome.failed).toEqual([]);
    expect(outcome.restarted.filter((r) => r.includes(victim))).toEqual([]);
    // Named: an operator can tell a consumer that went away from one that was never there.
    expect(outcome.text).toContain(`Deployment/${s.namespace}/${victim}`);
  });
});
