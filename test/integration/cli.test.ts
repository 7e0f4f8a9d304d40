import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  snapshotSecret,
} from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { RotationRecord } from '../../shared/ledger/ledger-port';
import { type CliRun, runRotator } from '../support/cli-process';
import { findLeakedValues } from '../support/output-capture';

const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
const run = randomUUID().slice(0, 6);
const PREFIX = `cli-${run}/team/`;
const TABLE = `cli-ledger-${run}`;
const ledger = new DynamoDbLedger(clients.dynamodb, TABLE);
const DAY = 86_400_000;

/** Every value a test secret has held; none may ever appear in the CLI's output. */
const VALUES = new Set<string>();
const OUTPUT: string[] = [];
const names = {
  ordersDb: `${PREFIX}orders-db`,
  paymentsKey: `${PREFIX}payments-key`,
  plain: `${PREFIX}plain`,
};
const UNMANAGED = `cli-${run}/other/db`;
const current: Record<string, string> = {};

/** Runs the real CLI against moto with the test's ledger table; every output is kept for the leak check. */
async function rotator(args: string[], options: { clockOffsetMs?: number } = {}): Promise<CliRun> {
  const result = await runRotator(args, { endpoint, env: { ROTATOR_LEDGER_TABLE: TABLE }, ...options });
  OUTPUT.push(result.stdout, result.stderr);
  return result;
}

/**
 * A rotation on a `days` schedule that moto starts and the test finishes as the rotation function
 * would (moto runs none): a value for the pending version, AWSCURRENT moved to it, AWSPENDING removed.
 */
async function rotated(name: string, days: number, value: string): Promise<string> {
  const before = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
  const old = Object.entries(before.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  const { VersionId: token } = await clients.secretsManager.send(
    new RotateSecretCommand({
      SecretId: name,
      RotationLambdaARN: await ensurePlaceholderRotationFunction(clients),
      RotationRules: { AutomaticallyAfterDays: days },
      RotateImmediately: true,
    }),
  );
  if (!token) throw new Error('moto returned no version id');
  const sm = clients.secretsManager;
  await sm.send(
    new PutSecretValueCommand({
      SecretId: name,
      ClientRequestToken: token,
      SecretString: value,
      VersionStages: ['AWSPENDING'],
    }),
  );
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: name,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      RemoveFromVersionId: old,
    }),
  );
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: name,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
  VALUES.add(value);
  return token;
}

function rotationRecord(
  name: string,
  versionId: string,
  extra: Partial<RotationRecord> = {},
): RotationRecord {
  return {
    secretName: name,
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`,
    versionId,
    trigger: 'scheduled',
    actor: 'scheduler',
    requestedAt: new Date().toISOString(),
    ...extra,
  };
}

async function propagated(name: string, versionId: string, status: 'succeeded' | 'failed') {
  const record = rotationRecord(name, versionId);
  const claim = {
    ...record,
    executionId: `exec-${versionId.slice(0, 8)}`,
    startedAt: new Date().toISOString(),
  };
  await ledger.claimPropagation(claim, { leaseMs: 60_000, now: new Date() });
  await ledger.finishPropagation(name, { versionId, moveSeq: 1 }, claim.executionId, {
    status,
    finishedAt: new Date(Date.now() + 4200).toISOString(),
    durationMs: 4200,
    clusters: [
      {
        cluster: 'local',
        outcome: status,
        synced: ['shop/orders-db'],
        restarted: ['Deployment/api'],
        failed: [],
      },
    ],
    ...(status === 'failed' ? { error: 'RolloutFailed: Deployment/api' } : {}),
  });
}

beforeAll(async () => {
  await createLedgerTable(clients.dynamodb, TABLE);
  for (const [key, name] of Object.entries(names)) {
    const value = JSON.stringify({ username: 'app', password: `initial-${key}-${randomUUID()}` });
    VALUES.add(value);
    VALUES.add(JSON.parse(value).password);
    await createSecret(clients, name, value);
  }
  const unmanagedValue = `unmanaged-${randomUUID()}`;
  VALUES.add(unmanagedValue);
  await createSecret(clients, UNMANAGED, unmanagedValue);

  // orders-db: rotated on a 30-day schedule and propagated. payments-key: a 1-day schedule, and the
  // ledger only knows an older version's propagation.
  const oldPayments =
    Object.keys(
      (await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: names.paymentsKey })))
        .VersionIdsToStages ?? {},
    )[0] ?? '';
  current.ordersDb = await rotated(names.ordersDb, 30, `rotated-orders-${randomUUID()}`);
  current.paymentsKey = await rotated(names.paymentsKey, 1, `rotated-payments-${randomUUID()}`);
  await ledger.recordRotation(
    rotationRecord(names.ordersDb, current.ordersDb, {
      trigger: 'emergency',
      actor: 'arn:aws:iam::123456789012:user/alice',
      reason: 'leaked in a log',
    }),
  );
  await propagated(names.ordersDb, current.ordersDb, 'succeeded');
  await propagated(names.paymentsKey, oldPayments, 'failed');
});

afterAll(() => {
  expect(findLeakedValues(OUTPUT.join('\n'), VALUES)).toEqual([]);
});

const row = (stdout: string, name: string) =>
  stdout.split('\n').find((line) => line.startsWith(`${name} `)) ?? '';

describe('rotator status against moto and the DynamoDB ledger', () => {
  it('lists every managed secret (and no other) with its ledger columns and flags, exit 0', async () => {
    const r = await rotator(['status', '--prefix', PREFIX]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^SECRET\s+AGE\s+LAST ROTATED\s+NEXT DUE\s+LAST ROTATION\s+LAST PROPAGATION\s+FLAGS$/,
    );
    expect(lines).toHaveLength(4);
    expect(r.stdout).not.toContain(UNMANAGED);
    expect(row(r.stdout, names.ordersDb)).toMatch(
      new RegExp(`0d .*emergency by user/alice .*${current.ordersDb?.slice(0, 8)} succeeded .*ok$`),
    );
    expect(row(r.stdout, names.paymentsKey)).toMatch(/ failed .*NOT-PROPAGATED$/);
    expect(row(r.stdout, names.plain)).toMatch(/ off .*NOT-PROPAGATED$/);
  });

  it('prints a stable JSON array with --json', async () => {
    const r = await rotator(['status', '--json', '--prefix', PREFIX]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((x) => x.name)).toEqual([names.ordersDb, names.paymentsKey, names.plain]);
    expect(rows[0]).toMatchObject({
      currentVersionId: current.ordersDb,
      rotationEnabled: true,
      lastRotation: {
        trigger: 'emergency',
        actor: 'arn:aws:iam::123456789012:user/alice',
        reason: 'leaked in a log',
      },
      lastPropagation: { versionId: current.ordersDb, status: 'succeeded' },
      flags: [],
    });
    expect(rows[1]).toMatchObject({ currentVersionId: current.paymentsKey, flags: ['NOT-PROPAGATED'] });
  });

  it('exits 2 when a secret is overdue (three days later, on its 1-day schedule), for CI gates', async () => {
    const later = { clockOffsetMs: 3 * DAY };
    const json = await rotator(['status', '--json', '--prefix', PREFIX], later);
    expect(json.code).toBe(2);
    const flags = Object.fromEntries(
      (JSON.parse(json.stdout) as { name: string; flags: string[] }[]).map((x) => [x.name, x.flags]),
    );
    expect(flags).toEqual({
      [names.ordersDb]: [],
      [names.paymentsKey]: ['OVERDUE', 'NOT-PROPAGATED'],
      [names.plain]: ['NOT-PROPAGATED'],
    });
    const table = await rotator(['status', '--prefix', PREFIX], later);
    expect(table.code).toBe(2);
    expect(row(table.stdout, names.paymentsKey)).toMatch(/^\S+\s+3d .*OVERDUE NOT-PROPAGATED$/);
  });
});

describe('rotator history', () => {
  it('shows the ledger newest first: the propagation, then the emergency rotation', async () => {
    const r = await rotator(['history', names.ordersDb, '--prefix', PREFIX]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /\spropagation\s+\w{8}\s+scheduled\s+scheduler\s+-\s+succeeded\s+4\.2 s\s+1\s+1$/,
    );
    expect(lines[2]).toMatch(
      /\srotation\s+\w{8}\s+emergency\s+user\/alice\s+leaked in a log\s+requested\s+-\s+-\s+-$/,
    );
  });

  it('honours --limit and prints JSON with --json', async () => {
    const r = await rotator(['history', names.ordersDb, '--limit', '1', '--json', '--prefix', PREFIX]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({
        kind: 'propagation',
        versionId: current.ordersDb,
        outcome: 'succeeded',
        clusters: 1,
        restarted: 1,
      }),
    ]);
  });
});

describe('rotator refuses an unmanaged secret', () => {
  it.each([
    ['emergency', ['emergency', UNMANAGED, '--reason', 'test']],
    ['plan', ['plan', UNMANAGED, '--kubeconfig', '/nonexistent']],
    ['history', ['history', UNMANAGED]],
  ])('%s: exit 2, one line, nothing written', async (_, args) => {
    const before = await snapshotSecret(clients, UNMANAGED);
    const r = await rotator([...args, '--prefix', PREFIX]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: Secret "${UNMANAGED}" is outside the managed prefixes of this deployment; nothing was changed\n`,
    );
    expect(await snapshotSecret(clients, UNMANAGED)).toEqual(before);
    expect(await ledger.history(UNMANAGED)).toEqual([]);
  });
});

describe('rotator emergency in AWS mode (moto moves AWSCURRENT itself; no workflow runs here)', () => {
  it('requests the rotation as the STS caller and succeeds once the ledger records the propagation (exit 0)', async () => {
    const running = rotator([
      'emergency',
      names.ordersDb,
      '--reason',
      'credential in a public gist',
      '--prefix',
      PREFIX,
    ]);
    // Play the workflow's part: wait for the CLI's rotation record, then record its propagation.
    let requested: RotationRecord | undefined;
    for (let i = 0; i < 100 && !requested; i++) {
      const [entry] = await ledger.history(names.ordersDb, { limit: 1 });
      if (entry?.kind === 'rotation' && entry.trigger === 'emergency' && entry.versionId !== current.ordersDb)
        requested = entry;
      else await sleep(100);
    }
    expect(requested).toMatchObject({
      actor: 'arn:aws:sts::123456789012:user/moto',
      reason: 'credential in a public gist',
      emergency: true,
      retirePrevious: false,
    });
    const versionId = requested?.versionId ?? '';
    await propagated(names.ordersDb, versionId, 'succeeded');
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`rotation requested: ${names.ordersDb} version ${versionId}`);
    expect(r.stdout).toContain(`new version:   ${versionId}`);
    expect(r.stdout).toContain('actor:         arn:aws:sts::123456789012:user/moto');
    expect(r.stdout).toContain('reason:        credential in a public gist');
    expect(r.stdout).toMatch(/rotation: {6}succeeded after /);
    expect(r.stdout).toMatch(
      /propagation: {3}succeeded in 4\.2 s: 1 cluster\(s\), 1 workload\(s\) restarted/,
    );
    expect(r.stdout).toMatch(/Outcome: succeeded\n$/);
  });

  it('fails with exit 1 when no propagation is recorded before --timeout, showing what it waited for', async () => {
    const r = await rotator([
      'emergency',
      names.paymentsKey,
      '--reason',
      'drill',
      '--timeout',
      '3s',
      '--prefix',
      PREFIX,
    ]);
    expect(r.code).toBe(1);
    const [entry] = await ledger.history(names.paymentsKey, { limit: 1 });
    expect(entry).toMatchObject({ kind: 'rotation', trigger: 'emergency', reason: 'drill' });
    expect(r.stderr).toMatch(/propagation: waiting for the workflow to claim the propagation \(/);
    expect(r.stdout).toMatch(/propagation: {3}timed-out: no propagation of \S+ was recorded/);
    expect(r.stdout).toMatch(/Outcome: failed\n$/);
  });
});
