import { describe, expect, it } from 'vitest';
import { historyRows, renderHistoryTable } from '../../cli/history-command';
import { renderStatusTable, statusJson, statusRows } from '../../cli/status-rows';
import type { LedgerEntry, PropagationRecord } from '../../shared/ledger/ledger-port';
import { planSweep } from '../../shared/sweep/plan-sweep';
import type { SecretSummary } from '../../shared/sweep/secret-summary';

/** How `rotator status` and `rotator history` show a propagation waiting for a restart window. */
const V1 = '11111111-aaaa-bbbb-cccc-000000000001';
const NOW = new Date('2026-12-04T12:00:00.000Z');
const WAIT = {
  cluster: 'prod-eu-1',
  until: '2026-12-05T02:00:00.000Z',
  held: 3,
  notedAt: '2026-12-04T11:00:00.000Z',
  leaseUntil: '2026-12-05T08:10:00.000Z',
};

function record(status: PropagationRecord['status']): PropagationRecord {
  return {
    secretName: 'p/db',
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:p/db-AbCdEf',
    versionId: V1,
    trigger: 'event',
    actor: 'eventbridge:LabelUpdated',
    executionId: 'exec-1',
    startedAt: '2026-12-04T10:59:00.000Z',
    status,
    ...(status === 'in-progress' ? {} : { finishedAt: '2026-12-05T02:03:00.000Z' }),
    windowWait: WAIT,
  };
}

const secret: SecretSummary = {
  name: 'p/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:p/db-AbCdEf',
  createdDate: new Date('2026-11-01T00:00:00Z'),
  lastRotatedDate: new Date('2026-12-04T10:58:00Z'),
  rotationEnabled: true,
  rotationIntervalDays: 30,
  nextRotationDate: new Date('2027-01-03T00:00:00Z'),
  versionIdsToStages: { [V1]: ['AWSCURRENT'] },
  tags: {},
};

const statusOf = (last: PropagationRecord) =>
  statusRows({
    decisions: planSweep([secret], { now: NOW }),
    ledger: new Map([['p/db', { secretName: 'p/db', lastPropagation: last }]]),
    stuck: new Set(),
  });

describe('a propagation waiting for a restart window', () => {
  it('status shows the wait: until when, how many held, where', () => {
    const line = renderStatusTable(statusOf(record('in-progress')), 400, NOW).split('\n')[1];
    expect(line).toContain('11111111 waiting-for-window until 2026-12-05 02:00Z (3 held in prod-eu-1)');
    expect(statusJson(statusOf(record('in-progress')))[0]?.lastPropagation).toMatchObject({
      status: 'in-progress',
      windowWait: { cluster: 'prod-eu-1', until: '2026-12-05T02:00:00.000Z', held: 3 },
    });
  });

  it('history shows it, and after the end that it waited', () => {
    const waiting: LedgerEntry = { kind: 'propagation', ...record('in-progress') };
    const done: LedgerEntry = { kind: 'propagation', ...record('succeeded') };
    const rows = historyRows([done, waiting]);
    // JSON keeps `outcome` as the ledger's status (scripts test `.outcome == "succeeded"`); the wait
    // is its own field, and only the table words it.
    expect(rows.map((r) => r.outcome)).toEqual(['succeeded', 'in-progress']);
    expect(rows[1]?.windowWait).toEqual({ cluster: 'prod-eu-1', until: '2026-12-05T02:00:00.000Z', held: 3 });
    const table = renderHistoryTable(rows, 400, NOW);
    expect(table).toContain('succeeded (waited for window until 2026-12-05 02:00Z)');
    expect(table).toContain('waiting-for-window until 2026-12-05 02:00Z (3 held in prod-eu-1)');
  });

  it('once `until` has passed, an unfinished propagation no longer reads as waiting', () => {
    const after = new Date('2026-12-05T02:30:00.000Z');
    const waiting: LedgerEntry = { kind: 'propagation', ...record('in-progress') };
    const history = renderHistoryTable(historyRows([waiting]), 400, after);
    expect(history).not.toContain('waiting-for-window');
    expect(history).toContain('in-progress (waited for window until 2026-12-05 02:00Z)');
    const status = renderStatusTable(statusOf(record('in-progress')), 400, after);
    expect(status).not.toContain('waiting-for-window');
    expect(status).toContain('11111111 in-progress (waited for window until 2026-12-05 02:00Z)');
  });

  it('a propagation that never waited reads as before (no windowWait in JSON)', () => {
    const { windowWait: _, ...plain } = record('succeeded');
    const [row] = historyRows([{ kind: 'propagation', ...plain }]);
    expect(row).toMatchObject({ outcome: 'succeeded', windowWait: null });
  });
});
