import { describe, expect, it } from 'vitest';
import { reportJson, reportRows } from '../../../shared/compliance/report-rows';
import type { PropagationRecord, RotationRecord } from '../../../shared/ledger/ledger-port';
import { planSweep } from '../../../shared/sweep/plan-sweep';
import type { SecretSummary } from '../../../shared/sweep/secret-summary';

/** `rotator report --format json`: the ledger's last rotation and propagation, as scripts read them. */
const NOW = new Date('2026-11-20T12:00:00Z');
const V1 = '11111111-aaaa-bbbb-cccc-000000000001';

const secret: SecretSummary = {
  name: 'p/db',
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:p/db-AbCdEf',
  createdDate: new Date('2026-10-01T00:00:00Z'),
  lastRotatedDate: new Date('2026-11-10T09:00:00Z'),
  nextRotationDate: new Date('2026-12-10T09:00:00Z'),
  rotationEnabled: true,
  rotationIntervalDays: 30,
  versionIdsToStages: { [V1]: ['AWSCURRENT'] },
  tags: {},
};

const rotation: RotationRecord = {
  secretName: 'p/db',
  secretArn: secret.arn,
  versionId: V1,
  trigger: 'emergency',
  actor: 'arn:aws:iam::123456789012:user/alice',
  reason: 'leaked in a log',
  requestedAt: '2026-11-10T09:00:00.000Z',
};

const propagation = (status: PropagationRecord['status']): PropagationRecord => ({
  ...rotation,
  executionId: 'exec-1',
  startedAt: '2026-11-10T09:01:00.000Z',
  status,
  ...(status === 'in-progress' ? {} : { finishedAt: '2026-11-10T09:02:00.000Z' }),
  windowWait: {
    cluster: 'prod-eu',
    until: '2026-11-11T02:00:00.000Z',
    held: 2,
    notedAt: '2026-11-10T09:01:30.000Z',
    leaseUntil: '2026-11-11T02:15:00.000Z',
  },
});

function lastRecordsJson(lastPropagation: PropagationRecord): string {
  const [row] = reportJson(
    reportRows({
      decisions: planSweep([secret], { now: NOW }),
      summaries: new Map([['p/db', { secretName: 'p/db', lastRotation: rotation, lastPropagation }]]),
      stuck: new Set(),
      rules: { rules: [] },
      now: NOW,
    }),
  );
  return JSON.stringify([row?.lastRotation, row?.lastPropagation]);
}

describe('report JSON of the last rotation and propagation', () => {
  it('has stable keys in a stable order, without the rotation reason or the window wait', () => {
    // Byte for byte: a renamed, added, dropped or reordered key breaks scripts that read the report.
    expect(lastRecordsJson(propagation('succeeded'))).toBe(
      '[{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","trigger":"emergency",' +
        '"actor":"arn:aws:iam::123456789012:user/alice","requestedAt":"2026-11-10T09:00:00.000Z"},' +
        '{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","status":"succeeded",' +
        '"startedAt":"2026-11-10T09:01:00.000Z","finishedAt":"2026-11-10T09:02:00.000Z"}]',
    );
  });

  it('gives null for a propagation not finished yet', () => {
    expect(lastRecordsJson(propagation('in-progress'))).toContain(
      '{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","status":"in-progress",' +
        '"startedAt":"2026-11-10T09:01:00.000Z","finishedAt":null}]',
    );
  });
});
