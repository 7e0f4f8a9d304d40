import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { createSecret, ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { type CliRun, runRotator } from '../support/cli-process';
import { findLeakedValues } from '../support/output-capture';

// `rotator report` as an operator runs it: the real CLI in a child process against moto and the
// DynamoDB ledger, maximum ages from the environment, --max-age and tags, and time moved forward.

const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
const run = randomUUID().slice(0, 6);
const PREFIX = `report-${run}/`;
const TABLE = `report-ledger-${run}`;
const ledger = new DynamoDbLedger(clients.dynamodb, TABLE);
const DAY = 86_400_000;
const VALUES = new Set<string>();
const OUTPUT: string[] = [];

const names = {
  fresh: `${PREFIX}ok/fresh`,
  disabled: `${PREFIX}team/disabled`,
  tagged: `${PREFIX}team/tagged`,
  badTag: `${PREFIX}team/bad-tag`,
  failed: `${PREFIX}team/failed`,
  unpropagated: `${PREFIX}team/unpropagated`,
};
/** prefix rules: the whole prefix 30 days, team/ 60 days (longest wins) */
const RULES = JSON.stringify([
  { prefix: PREFIX, days: 30 },
  { prefix: `${PREFIX}team/`, days: 60 },
]);

async function rotator(
  args: string[],
  options: { clockOffsetMs?: number; env?: Record<string, string> } = {},
) {
  const result: CliRun = await runRotator(['report', '--prefix', PREFIX, ...args], {
    endpoint,
    env: { ROTATOR_LEDGER_TABLE: TABLE, ROTATOR_MAX_AGE_RULES: RULES, ...options.env },
    clockOffsetMs: options.clockOffsetMs,
  });
  OUTPUT.push(result.stdout, result.stderr);
  return result;
}

/** A rotation moto starts and the test finishes as a rotation function would; returns the new version. */
async function rotated(name: string): Promise<string> {
  const sm = clients.secretsManager;
  const before = await sm.send(new DescribeSecretCommand({ SecretId: name }));
  const old = Object.entries(before.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  const { VersionId: token } = await sm.send(
    new RotateSecretCommand({
      SecretId: name,
      RotationLambdaARN: await ensurePlaceholderRotationFunction(clients),
      RotationRules: { AutomaticallyAfterDays: 90 },
      RotateImmediately: true,
    }),
  );
  if (!token) throw new Error('moto returned no version id');
  const value = `rotated-${randomUUID()}`;
  VALUES.add(value);
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
  return token;
}

/** The workflow's ledger writes for one move: register, claim, finish. */
async function propagated(name: string, versionId: string, status: 'succeeded' | 'failed') {
  const at = new Date().toISOString();
  const move = await ledger.registerMove(name, { versionId, at, trigger: 'scheduled', actor: 'scheduler' });
  const executionId = `exec-${versionId.slice(0, 8)}`;
  await ledger.claimPropagation(
    {
      secretName: name,
      secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`,
      versionId,
      moveSeq: move.seq,
      trigger: 'scheduled',
      actor: 'scheduler',
      executionId,
      startedAt: at,
    },
    { leaseMs: 60_000, now: new Date() },
  );
  await ledger.finishPropagation(name, { versionId, moveSeq: move.seq }, executionId, {
    status,
    finishedAt: new Date().toISOString(),
    durationMs: 1000,
    clusters: [],
    ...(status === 'failed' ? { error: 'RolloutFailed: Deployment/api' } : {}),
  });
}

const current: Record<string, string> = {};

beforeAll(async () => {
  await createLedgerTable(clients.dynamodb, TABLE);
  const tags: Partial<Record<keyof typeof names, Record<string, string>>> = {
    tagged: { 'rotator:max-age-days': '400' },
    badTag: { 'rotator:max-age-days': 'ninety' },
  };
  for (const [key, name] of Object.entries(names) as [keyof typeof names, string][]) {
    const value = `initial-${key}-${randomUUID()}`;
    VALUES.add(value);
    await createSecret(clients, name, value, tags[key]);
  }
  current.fresh = await rotated(names.fresh);
  await propagated(names.fresh, current.fresh, 'succeeded');
  current.failed = await rotated(names.failed);
  await propagated(names.failed, current.failed, 'failed');
  current.unpropagated = await rotated(names.unpropagated);
});

afterAll(() => {
  expect(findLeakedValues(OUTPUT.join('\n'), VALUES)).toEqual([]);
});

type JsonRow = {
  name: string;
  ageDays: number;
  policy: { maxAgeDays: number | null; source: string; prefix: string | null };
  lastPropagation: { status: string } | null;
  verdict: string;
  findings: string[];
};
const byName = (stdout: string) =>
  Object.fromEntries((JSON.parse(stdout) as JsonRow[]).map((row) => [row.name, row]));

describe('rotator report against moto and the DynamoDB ledger', () => {
  it('judges every managed secret today and exits 2 for the failed, unreadable and unpropagated ones', async () => {
    const r = await rotator(['--format', 'json']);
    expect(r.code).toBe(2);
    const rows = byName(r.stdout);
    expect(Object.keys(rows).sort()).toEqual(Object.values(names).sort());
    expect(rows[names.fresh]).toMatchObject({
      ageDays: 0,
      policy: { maxAgeDays: 30, source: 'prefix', prefix: PREFIX },
      lastPropagation: { status: 'succeeded' },
      verdict: 'ok',
    });
    expect(rows[names.disabled]).toMatchObject({
      policy: { maxAgeDays: 60, source: 'prefix', prefix: `${PREFIX}team/` },
      verdict: 'ok',
    });
    expect(rows[names.tagged]?.policy).toEqual({ maxAgeDays: 400, source: 'tag', prefix: null, error: null });
    expect(rows[names.badTag]).toMatchObject({
      policy: { source: 'invalid-tag' },
      verdict: 'invalid-policy',
    });
    expect(rows[names.failed]?.verdict).toBe('propagation-failed');
    expect(rows[names.unpropagated]?.verdict).toBe('never-propagated');
  });

  it('flags a secret with rotation off as overdue past its maximum age (61 days later), tag winning over rules', async () => {
    const r = await rotator(['--format', 'json'], { clockOffsetMs: 61 * DAY });
    expect(r.code).toBe(2);
    const rows = byName(r.stdout);
    expect(rows[names.disabled]).toMatchObject({ ageDays: 61, verdict: 'overdue', findings: ['overdue'] });
    expect(rows[names.tagged]?.verdict).toBe('ok');
    expect(rows[names.fresh]?.findings).toEqual(['overdue']);
  });

  it('prints a table by default, and exits 0 when every secret meets policy', async () => {
    const ok = await runRotator(['report', '--prefix', `${PREFIX}ok/`], {
      endpoint,
      env: { ROTATOR_LEDGER_TABLE: TABLE },
    });
    OUTPUT.push(ok.stdout, ok.stderr);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SECRET\s+AGE\s+MAX AGE\s+LAST ROTATED\s+LAST PROPAGATION\s+VERDICT$/);
    expect(lines[1]).toMatch(new RegExp(`^${names.fresh}\\s+0d\\s+none\\s+.*succeeded.*\\sok$`));
    expect(ok.stderr).toContain('1 secret(s), 0 with findings; policy met');
  });

  it('--allow lets a finding pass the gate, --max-age replaces the environment rules', async () => {
    const gate = [
      '--allow',
      'never-propagated',
      '--allow',
      'propagation-failed',
      '--allow',
      'invalid-policy',
    ];
    expect((await rotator(gate)).code).toBe(0);
    const later = await rotator([...gate, '--max-age', `${PREFIX}=90`, '--format', 'json'], {
      clockOffsetMs: 61 * DAY,
    });
    expect(later.code).toBe(0);
    expect(byName(later.stdout)[names.disabled]).toMatchObject({
      policy: { maxAgeDays: 90, source: 'prefix' },
      verdict: 'ok',
    });
  });

  it('writes RFC 4180 CSV with a header row', async () => {
    const r = await rotator(['--format', 'csv']);
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\r\n').filter((l) => l.length > 0);
    expect(lines[0]).toBe(
      'name,current_version_id,current_since,age_days,rotation_enabled,max_age_days,policy_source,last_rotated_at,' +
        'last_propagation_version_id,last_propagation_status,last_propagation_finished_at,verdict,findings',
    );
    expect(lines).toHaveLength(1 + Object.keys(names).length);
    const failed = lines.find((l) => l.startsWith(`${names.failed},`))?.split(',');
    expect(failed?.[1]).toBe(current.failed);
    expect(failed?.slice(5, 7)).toEqual(['60', `prefix ${PREFIX}team/`]);
    expect(failed?.slice(-2)).toEqual(['propagation-failed', 'propagation-failed']);
  });

  it.each([
    ['a rule outside the managed prefixes', ['--max-age', 'elsewhere/=30'], /not within a managed prefix/],
    ['a rule without days', ['--max-age', `${PREFIX}`], /expected <prefix>=<days>/],
    ['days out of range', ['--max-age', `${PREFIX}=0`], /ROTATOR_MAX_AGE_RULES/],
    ['an unknown format', ['--format', 'xml'], /Allowed choices are table, json, csv/],
  ])('refuses %s with exit 2 and no report', async (_what, args, message) => {
    const r = await rotator(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
