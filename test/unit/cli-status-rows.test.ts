import { describe, expect, it } from 'vitest';
import { needsAttention, renderStatusTable, statusJson, statusRows } from '../../cli/status-rows';
import type { PropagationRecord, RotationRecord, SecretLedgerSummary } from '../../shared/ledger/ledger-port';
import { planSweep } from '../../shared/sweep/plan-sweep';
import type { SecretSummary } from '../../shared/sweep/secret-summary';

const NOW = new Date('2026-11-20T12:00:00Z');
const DAY = 86_400_000;
const V1 = '11111111-aaaa-bbbb-cccc-000000000001';
const V2 = '22222222-aaaa-bbbb-cccc-000000000002';

function secret(name: string, extra: Partial<SecretSummary> = {}): SecretSummary {
  return {
    name,
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`,
    createdDate: new Date(NOW.getTime() - 40 * DAY),
    lastRotatedDate: new Date(NOW.getTime() - 10 * DAY),
    nextRotationDate: new Date(NOW.getTime() + 20 * DAY),
    rotationEnabled: true,
    rotationIntervalDays: 30,
    versionIdsToStages: { [V1]: ['AWSCURRENT'] },
    tags: {},
    ...extra,
  };
}

const rotation = (name: string, versionId = V1): RotationRecord => ({
  secretName: name,
  secretArn: `arn:${name}`,
  versionId,
  trigger: 'emergency',
  actor: 'arn:aws:iam::123456789012:user/alice',
  reason: 'leaked in a log',
  requestedAt: '2026-11-10T09:00:00.000Z',
});

const propagation = (
  name: string,
  versionId: string,
  status: PropagationRecord['status'],
): PropagationRecord => ({
  ...rotation(name, versionId),
  executionId: 'exec-1',
  startedAt: '2026-11-10T09:01:00.000Z',
  status,
  finishedAt: status === 'in-progress' ? undefined : '2026-11-10T09:02:00.000Z',
});

function rows(
  secrets: SecretSummary[],
  /** undefined: no ledger configured. */
  ledger?: Map<string, SecretLedgerSummary>,
  stuck: string[] = [],
) {
  return statusRows({ decisions: planSweep(secrets, { now: NOW }), ledger, stuck: new Set(stuck) });
}

const summary = (name: string, lastPropagation?: PropagationRecord): [string, SecretLedgerSummary] => [
  name,
  { secretName: name, lastRotation: rotation(name), lastPropagation },
];

describe('status rows from the sweep’s decisions and the ledger summaries', () => {
  it('flags nothing for a secret on schedule whose current version was propagated', () => {
    const all = rows([secret('p/db')], new Map([summary('p/db', propagation('p/db', V1, 'succeeded'))]));
    const [row] = all;
    expect(row).toMatchObject({ name: 'p/db', ageDays: 10, currentVersionId: V1, flags: [] });
    expect(needsAttention(all)).toBe(false);
  });

  it('flags OVERDUE past the due date plus grace, and that needs attention (exit 2)', () => {
    const late = secret('p/db', { nextRotationDate: new Date(NOW.getTime() - 3 * DAY) });
    const all = rows([late], undefined);
    const [row] = all;
    expect(row?.flags).toEqual(['OVERDUE']);
    expect(needsAttention(all)).toBe(true);
  });

  it.each([
    [['p/db'], 'STUCK', true],
    [[], 'ROTATING', false],
  ] as const)('an unfinished rotation judged stuck=%j is %s (attention: %s)', (stuck, flag, attention) => {
    const pending = secret('p/db', { versionIdsToStages: { [V1]: ['AWSCURRENT'], [V2]: ['AWSPENDING'] } });
    const all = rows([pending], undefined, [...stuck]);
    const [row] = all;
    expect(row?.flags).toEqual([flag]);
    expect(row?.pendingVersionId).toBe(V2);
    expect(needsAttention(all)).toBe(attention);
  });

  it.each([
    ['no propagation recorded', undefined],
    ['an older version propagated', propagation('p/db', V2, 'succeeded')],
    ['the current version failed', propagation('p/db', V1, 'failed')],
    ['the current version still in progress', propagation('p/db', V1, 'in-progress')],
  ])('flags NOT-PROPAGATED when %s, without needing attention', (_, last) => {
    const all = rows([secret('p/db')], new Map([summary('p/db', last)]));
    const [row] = all;
    expect(row?.flags).toEqual(['NOT-PROPAGATED']);
    expect(needsAttention(all)).toBe(false);
  });

  it('does not judge propagation at all without a ledger', () => {
    expect(rows([secret('p/db')], undefined)[0]?.flags).toEqual([]);
  });

  it('sorts rows by name', () => {
    expect(rows([secret('p/b'), secret('p/a')], new Map()).map((r) => r.name)).toEqual(['p/a', 'p/b']);
  });
});

describe('status output', () => {
  it('renders a row with short actor, short version, times and flags', () => {
    const late = secret('p/db', { nextRotationDate: new Date(NOW.getTime() - 3 * DAY) });
    const text = renderStatusTable(
      rows([late], new Map([summary('p/db', propagation('p/db', V2, 'succeeded'))])),
    );
    const [header, line] = text.split('\n');
    expect(header).toMatch(
      /^SECRET\s+AGE\s+LAST ROTATED\s+NEXT DUE\s+LAST ROTATION\s+LAST PROPAGATION\s+FLAGS$/,
    );
    expect(line).toContain('p/db');
    expect(line).toContain('10d');
    expect(line).toContain('emergency by user/alice 2026-11-10 09:00Z');
    expect(line).toContain('22222222 succeeded 2026-11-10 09:02Z');
    expect(line).toMatch(/OVERDUE NOT-PROPAGATED$/);
  });

  it('shows "off" as the due date when rotation is disabled', () => {
    const text = renderStatusTable(rows([secret('p/db', { rotationEnabled: false })], undefined));
    expect(text.split('\n')[1]).toMatch(/ off /);
  });

  it('gives JSON with stable keys, ISO times and null for what is absent', () => {
    const [json] = statusJson(rows([secret('p/db', { lastRotatedDate: undefined })], undefined));
    expect(Object.keys(json ?? {})).toEqual([
      'name',
      'arn',
      'ageDays',
      'lastRotatedAt',
      'nextRotationDueAt',
      'rotationEnabled',
      'currentVersionId',
      'pendingVersionId',
      'lastRotation',
      'lastPropagation',
      'flags',
    ]);
    expect(json).toMatchObject({
      ageDays: 40,
      lastRotatedAt: null,
      nextRotationDueAt: '2026-12-10T12:00:00.000Z',
      lastRotation: null,
      lastPropagation: null,
      flags: [],
    });
  });

  it('gives the last rotation and propagation as JSON with stable keys in a stable order', () => {
    const waited: PropagationRecord = {
      ...propagation('p/db', V1, 'succeeded'),
      windowWait: {
        cluster: 'prod-eu',
        until: '2026-11-11T02:00:00.000Z',
        held: 2,
        notedAt: '2026-11-10T09:01:30.000Z',
        leaseUntil: '2026-11-11T02:15:00.000Z',
      },
    };
    const bare = { ...rotation('p/db'), reason: undefined };
    const [full] = statusJson(rows([secret('p/db')], new Map([summary('p/db', waited)])));
    const [sparse] = statusJson(
      rows(
        [secret('p/db')],
        new Map([
          [
            'p/db',
            {
              secretName: 'p/db',
              lastRotation: bare,
              lastPropagation: propagation('p/db', V1, 'in-progress'),
            },
          ],
        ]),
      ),
    );

    // Byte for byte: a renamed, added, dropped or reordered key breaks scripts that read --json.
    expect(JSON.stringify([full?.lastRotation, full?.lastPropagation])).toBe(
      '[{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","trigger":"emergency",' +
        '"actor":"arn:aws:iam::123456789012:user/alice","reason":"leaked in a log",' +
        '"requestedAt":"2026-11-10T09:00:00.000Z"},' +
        '{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","status":"succeeded",' +
        '"startedAt":"2026-11-10T09:01:00.000Z","finishedAt":"2026-11-10T09:02:00.000Z",' +
        '"windowWait":{"cluster":"prod-eu","until":"2026-11-11T02:00:00.000Z","held":2}}]',
    );
    expect(JSON.stringify([sparse?.lastRotation, sparse?.lastPropagation])).toBe(
      '[{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","trigger":"emergency",' +
        '"actor":"arn:aws:iam::123456789012:user/alice","reason":null,' +
        '"requestedAt":"2026-11-10T09:00:00.000Z"},' +
        '{"versionId":"11111111-aaaa-bbbb-cccc-000000000001","status":"in-progress",' +
        '"startedAt":"2026-11-10T09:01:00.000Z","finishedAt":null,"windowWait":null}]',
    );
  });
});
