import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WindowWait } from '../../../shared/ledger/ledger-port';
import { createMetrics } from '../../../shared/observability';
import { claimStep } from '../../../shared/workflow/claim-step';
import type { LedgerStepDeps } from '../../../shared/workflow/ledger-step-deps';
import { FRESHNESS_METRIC } from '../../../shared/workflow/propagation-freshness';
import { recordStep } from '../../../shared/workflow/record-step';
import { startPropagation } from '../../../shared/workflow/start-propagation';
import { captureOutput, type OutputCapture } from '../../support/output-capture';

// The freshness metric as CloudWatch receives it: Powertools' EMF lines, captured from stdout, after
// the workflow's own Claim and Record steps (the metric starts at the starting event's time).

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf';
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const MOVED_AT = '2026-12-01T10:00:00.000Z';
const VERIFIED_AT = new Date('2026-12-01T10:04:30.400Z');

let output: OutputCapture;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.stop());

/** The execution's ledger record as Record's outcome write returns it; a window wait set by a test. */
let windowWait: WindowWait | undefined;
beforeEach(() => {
  windowWait = undefined;
});

function deps(metrics = createMetrics()): LedgerStepDeps {
  return {
    managedPrefixes: ['prod/'],
    clusters: ['c'],
    restartConcurrency: 5,
    emergencyRestartConcurrency: 50,
    restartPercent: 100,
    canaryWorkloads: 0,
    leaseMs: 3_600_000,
    secrets: {
      describeSecret: async () => ({
        arn: ARN,
        name: 'prod/db',
        rotationEnabled: true,
        versionIdsToStages: { [VERSION]: ['AWSCURRENT'] },
        tags: {},
      }),
      removeStage: vi.fn(),
    },
    ledger: {
      registerMove: async (_name, move) => ({ ...move, seq: 1 }),
      claimPropagation: async () => ({ claimed: true }),
      // Record learns the wait from its own write: a ledger without `history` proves it reads nothing else.
      finishPropagation: async (secretName, key, executionId, result) => ({
        secretName,
        secretArn: ARN,
        ...key,
        trigger: 'event',
        actor: 'eventbridge',
        executionId,
        startedAt: MOVED_AT,
        ...result,
        ...(windowWait && { windowWait }),
      }),
      noteWindowWait: vi.fn(),
    },
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
    metrics,
    now: () => VERIFIED_AT,
  };
}

const cluster = (outcome: 'succeeded' | 'failed') => ({
  cluster: 'c',
  outcome,
  synced: ['shop/db'],
  restarted: ['Deployment shop/api'],
  failed: outcome === 'failed' ? ['Deployment shop/api: rollout failed'] : [],
});

/** Claim with `input`, Record with one cluster's outcome, flush: the EMF documents printed. */
async function propagate(input: Record<string, unknown>, outcome: 'succeeded' | 'failed') {
  const metrics = createMetrics();
  const d = deps(metrics);
  const before = output.text().length;
  const claim = await claimStep(
    {
      input: { secretId: ARN, versionId: VERSION, trigger: 'event', actor: 'eventbridge', ...input },
      executionId: 'e1',
    },
    d,
  );
  await recordStep({ claim, clusters: [cluster(outcome)] }, d);
  metrics.publishStoredMetrics();
  return output
    .text()
    .slice(before)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(
      (line) =>
        JSON.parse(line) as Record<string, unknown> & {
          _aws?: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] };
        },
    )
    .filter((line) => line._aws?.CloudWatchMetrics);
}

describe('PropagationFreshness', () => {
  it('is emitted in seconds from AWSCURRENT moving to Record, for a succeeded propagation', async () => {
    const [emf] = await propagate({ movedAt: MOVED_AT }, 'succeeded');
    expect(emf?.[FRESHNESS_METRIC]).toBe(270);
    expect(emf?._aws?.CloudWatchMetrics[0]?.Metrics).toContainEqual({
      Name: FRESHNESS_METRIC,
      Unit: 'Seconds',
    });
    expect(emf?.PropagationSucceeded).toBe(1);
  });

  it('counts from the restart window opening when the propagation waited for one (the wait is deliberate, not slowness)', async () => {
    windowWait = {
      cluster: 'c',
      until: '2026-12-01T10:03:00.000Z',
      held: 1,
      notedAt: MOVED_AT,
      leaseUntil: '2026-12-01T16:13:00.000Z',
    };
    const [emf] = await propagate({ movedAt: MOVED_AT }, 'succeeded');
    expect(emf?.[FRESHNESS_METRIC]).toBe(90);
  });

  it('is not emitted for a failed propagation, nor without the move time (a reconcile)', async () => {
    const failed = await propagate({ movedAt: MOVED_AT }, 'failed');
    expect(failed[0]?.PropagationFailed).toBe(1);
    expect(failed[0]).not.toHaveProperty(FRESHNESS_METRIC);
    const unknown = await propagate({}, 'succeeded');
    expect(unknown[0]?.PropagationSucceeded).toBe(1);
    expect(unknown[0]).not.toHaveProperty(FRESHNESS_METRIC);
  });

  it('refuses a move time that is not an ISO date, naming the field', async () => {
    await expect(
      claimStep(
        {
          input: { secretId: ARN, versionId: VERSION, trigger: 'event', actor: 'x', movedAt: 'yesterday' },
          executionId: 'e',
        },
        deps(),
      ),
    ).rejects.toThrow(/movedAt/);
  });

  it('starts at the event: the starter carries the rule’s event time into the workflow input', async () => {
    const started: Record<string, unknown>[] = [];
    await startPropagation(
      { secretId: ARN, versionId: VERSION, movedAt: '2026-12-01T10:00:00Z' },
      {
        managedPrefixes: ['prod/'],
        secrets: deps().secrets,
        ledger: { findRotation: async () => undefined, summaries: async () => new Map() },
        starter: {
          start: async (_name, input) => {
            started.push(input);
            return { alreadyStarted: false };
          },
        },
        logger: deps().logger,
        metrics: { addMetric: vi.fn(), addDimension: vi.fn() },
        now: () => VERIFIED_AT,
      },
    );
    expect(started[0]).toMatchObject({ versionId: VERSION, movedAt: '2026-12-01T10:00:00Z' });
  });
});
