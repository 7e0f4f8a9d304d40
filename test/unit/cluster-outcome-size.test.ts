/**
 * Every cluster's outcome lands in one Step Functions state (the Map's result), whose 256 KiB limit
 * no Catch can handle once passed (States.DataLimitExceeded). Review 56, findings 4 and 8.
 */
import { describe, expect, it } from 'vitest';
import { CLUSTERS_MAX_BYTES, finishClusterStep, LINE_MAX } from '../../shared/workflow/cluster-outcome';
import { capped, type RestartProgress } from '../../shared/workflow/workflow-state';

const refs = (n: number, reason: string, name = 'w') =>
  Array.from({ length: n }, (_, i) => ({
    ref: { kind: 'Deployment', namespace: `team-${i}`, name: `${name}-${i}` },
    reason,
  }));

// What ESO's AWS provider writes into Ready.message when its role lost GetSecretValue (about 400 characters).
const ESO_DENIED = `could not get secret data from provider: error retrieving secret at .data[0], key: prod/payments/db, err: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/external-secrets-irsa/1701234567890123456 is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/payments/db because no identity-based policy allows the secretsmanager:GetSecretValue action\n\tstatus code: 400, request id: 6c1a7e2b-8f0d-4c55-9a1e-2d3b4c5d6e7f`;

/** A cluster where everything that can be listed is, at full caps, with long lines. */
function worstCase(cluster: string, clusterCount?: number) {
  const long = 'x'.repeat(2000);
  const restarts: RestartProgress = {
    done: true,
    stopped: `40 rollout(s) failed: restarts stopped (${long})`,
    invocations: 3,
    verified: 60,
    inFlight: 0,
    pending: 0,
    restarted: capped(refs(60, 'verified', 'a'.repeat(200))),
    failed: capped(refs(40, long, 'failed')),
    refused: capped(refs(40, long, 'paused')),
    nextPod: capped(refs(40, long, 'cron')),
    notRestarted: capped(refs(40, 'pending', 'b'.repeat(200))),
    gone: capped(refs(40, long, 'gone')),
  };
  const esRefs = refs(40, ESO_DENIED, 'es').map((r) => ({ ...r, ref: { ...r.ref, kind: 'ExternalSecret' } }));
  return finishClusterStep({
    state: {
      cluster,
      sync: {
        annotatedAt: '2026-12-01T10:00:00.000Z',
        deadline: '2026-12-01T10:05:00.000Z',
        done: true,
        pending: [],
        synced: esRefs.map((r) => r.ref),
        failed: esRefs,
      },
      restarts,
      error: { Error: 'States.TaskFailed', Cause: JSON.stringify({ errorMessage: long }) },
      // Route names (up to 128 characters) from the Namespaces' secret-rotator.io/notify (review 57).
      plan: {
        plannedAt: '2026-12-01T10:00:00.000Z',
        resync: [],
        notRefreshing: [],
        notifyRoutes: Array.from({ length: 25 }, (_, i) => `${'route-'.repeat(20)}${i}`),
      },
      ...(clusterCount && { clusterCount }),
    },
  });
}

describe('a cluster outcome', () => {
  it('puts why the restarts stopped first, so capping the list never cuts it', async () => {
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        restarts: {
          done: true,
          stopped: 'the canary Deployment/shop/w-0 did not roll out: restarts stopped',
          invocations: 3,
          verified: 0,
          inFlight: 0,
          pending: 40,
          restarted: capped([]),
          failed: capped(refs(30, 'failed')),
          refused: capped(refs(30, 'paused')),
          nextPod: capped([]),
          notRestarted: capped(refs(40, 'pending')),
        },
      },
    });
    expect(outcome.failed[0]).toBe(
      'the canary Deployment/shop/w-0 did not roll out: restarts stopped; 40 consumer(s) not restarted',
    );
    expect(outcome.counts?.failed).toBe(61);
  });

  it('cuts every line to LINE_MAX characters (ESO messages and Lambda errors come in any length)', async () => {
    const outcome = await worstCase('c');
    const lines = [...outcome.failed, ...(outcome.nextPod ?? []), ...(outcome.gone ?? [])];
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(LINE_MAX);
    expect(outcome.failed[0]).toMatch(/^40 rollout\(s\) failed: restarts stopped/);
  });

  it.each([1, 10, 25, 100])(
    'stays within the shared state with %i failing clusters, counts kept whole',
    async (n) => {
      const outcomes = await Promise.all(
        Array.from({ length: n }, (_, i) => worstCase(`prod-eks-eu-west-1-${i}`, n)),
      );
      const bytes = Buffer.byteLength(JSON.stringify(outcomes));
      expect(bytes).toBeLessThanOrEqual(CLUSTERS_MAX_BYTES);
      for (const outcome of outcomes) {
        expect(outcome.counts).toMatchObject({ failed: 122, restarted: 60, notRestarted: 40, gone: 40 });
        expect(outcome.failed[0]).toMatch(/^40 rollout\(s\) failed: restarts stopped/);
      }
      // One cluster alone keeps its lists at the usual caps.
      if (n === 1) expect(outcomes[0]?.restarted).toHaveLength(25);
    },
  );
});
