import { describe, expect, it } from 'vitest';
import { historyRows, renderHistoryTable } from '../../cli/history-command';
import type { LedgerEntry } from '../../shared/ledger/ledger-port';

const V1 = '11111111-aaaa-bbbb-cccc-000000000001';
const V0 = '00000000-aaaa-bbbb-cccc-000000000000';
const base = {
  secretName: 'p/db',
  secretArn: 'arn:p/db',
  versionId: V1,
  actor: 'arn:aws:iam::123456789012:user/alice',
};

const ENTRIES: LedgerEntry[] = [
  {
    kind: 'propagation',
    ...base,
    trigger: 'emergency',
    reason: 'leaked in a log',
    executionId: 'exec-1',
    startedAt: '2026-11-20T10:03:00.000Z',
    status: 'failed',
    finishedAt: '2026-11-20T10:04:30.000Z',
    durationMs: 90_000,
    clusters: [
      {
        cluster: 'a',
        outcome: 'succeeded',
        synced: ['shop/db'],
        restarted: ['Deployment/api', 'Deployment/web'],
        failed: [],
      },
      {
        cluster: 'b',
        outcome: 'failed',
        synced: [],
        restarted: ['StatefulSet/worker'],
        failed: ['DaemonSet/x'],
      },
    ],
    error: 'RolloutFailed: DaemonSet/x',
  },
  {
    kind: 'rotation',
    ...base,
    trigger: 'emergency',
    reason: 'leaked in a log',
    requestedAt: '2026-11-20T10:02:00.000Z',
    emergency: true,
    repairedPendingVersionId: V0,
  },
  {
    kind: 'rotation',
    ...base,
    versionId: V0,
    trigger: 'scheduled',
    actor: 'scheduler',
    requestedAt: '2026-10-01T00:00:00.000Z',
  },
];

describe('history rows', () => {
  it('keeps the ledger order (newest first) and counts clusters and restarted workloads', () => {
    const rows = historyRows(ENTRIES);
    expect(rows.map((r) => [r.kind, r.at])).toEqual([
      ['propagation', '2026-11-20T10:03:00.000Z'],
      ['rotation', '2026-11-20T10:02:00.000Z'],
      ['rotation', '2026-10-01T00:00:00.000Z'],
    ]);
    expect(rows[0]).toMatchObject({
      outcome: 'failed',
      durationMs: 90_000,
      clusters: 2,
      restarted: 3,
      error: 'RolloutFailed: DaemonSet/x',
    });
  });

  it('names the AWSCURRENT move of a propagation, counts restarts beyond the capped lists, and marks a move back in the table', () => {
    const rollback: LedgerEntry = {
      kind: 'propagation',
      ...base,
      moveSeq: 3,
      fromVersionId: V0,
      trigger: 'event',
      executionId: 'exec-3',
      startedAt: '2026-11-21T10:00:00.000Z',
      status: 'succeeded',
      clusters: [
        {
          cluster: 'a',
          outcome: 'succeeded',
          synced: [],
          restarted: ['Deployment/api'],
          failed: [],
          counts: { restarted: 480 },
        },
      ],
    };
    const [row] = historyRows([rollback]);
    expect(row).toMatchObject({ move: { seq: 3, fromVersionId: V0 }, restarted: 480 });
    expect(historyRows(ENTRIES)[0]?.move).toEqual({ seq: 1, fromVersionId: null });
    expect(renderHistoryTable(historyRows([rollback])).split('\n')[1]).toMatch(
      /propagation\s+11111111 #3\s+event/,
    );
  });

  it('says which stuck rotation an emergency repaired', () => {
    expect(historyRows(ENTRIES)[1]?.outcome).toBe('requested (repaired 00000000)');
  });

  it('has no duration or counts for a rotation, and null reason when none was given', () => {
    expect(historyRows(ENTRIES)[2]).toMatchObject({
      reason: null,
      durationMs: null,
      clusters: null,
      restarted: null,
    });
  });

  it('renders one line per entry with short versions, short actors and the failure', () => {
    const lines = renderHistoryTable(historyRows(ENTRIES)).split('\n');
    expect(lines[0]).toMatch(
      /^TIME\s+KIND\s+VERSION\s+TRIGGER\s+ACTOR\s+REASON\s+OUTCOME\s+DURATION\s+CLUSTERS\s+RESTARTED$/,
    );
    expect(lines[1]).toMatch(
      /^2026-11-20 10:03Z\s+propagation\s+11111111\s+emergency\s+user\/alice\s+leaked in a log\s+failed: RolloutFailed: DaemonSet\/x\s+1m 30s\s+2\s+3$/,
    );
    expect(lines[3]).toMatch(
      /^2026-10-01 00:00Z\s+rotation\s+00000000\s+scheduled\s+scheduler\s+-\s+requested\s+-\s+-\s+-$/,
    );
  });
});
