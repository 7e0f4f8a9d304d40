import { describe, expect, it, vi } from 'vitest';
import { InvalidEventError, RotationStateError, SecretNotManagedError } from '../../shared/errors';
import type { MoveRecord, RotationRecord } from '../../shared/ledger/ledger-port';
import type { SecretDescription } from '../../shared/secrets/secrets-port';
import { moveSeqFor, startPropagation } from '../../shared/workflow/start-propagation';
import type { WorkflowInput } from '../../shared/workflow/workflow-state';

const CURRENT = '11111111-2222-4333-8444-555555555555';
const OLD = '99999999-2222-4333-8444-555555555555';
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app-team/db-AbCdEf';
const secret: SecretDescription = {
  arn: ARN,
  name: 'prod/app-team/db',
  rotationEnabled: true,
  versionIdsToStages: { [CURRENT]: ['AWSCURRENT'], [OLD]: ['AWSPREVIOUS'] },
  tags: {},
};

/** An emergency rotation's ledger record for CURRENT, asked for a minute before the harness's now. */
const EMERGENCY: RotationRecord = {
  secretName: 'prod/app-team/db',
  secretArn: ARN,
  versionId: CURRENT,
  trigger: 'emergency',
  actor: 'arn:aws:iam::111122223333:role/oncall',
  reason: 'key leaked in a build log',
  requestedAt: '2026-11-23T10:29:00.000Z',
  emergency: true,
  retirePrevious: true,
};

function harness(rotation?: RotationRecord, alreadyStarted = false, currentMove?: MoveRecord) {
  const started: { name: string; input: WorkflowInput }[] = [];
  const describeSecret = vi.fn(async () => secret);
  const deps = {
    managedPrefixes: ['prod/app-team/'],
    secrets: { describeSecret },
    ledger: {
      findRotation: vi.fn(async () => rotation),
      summaries: vi.fn(async () =>
        currentMove
          ? new Map([['prod/app-team/db', { secretName: 'prod/app-team/db', currentMove }]])
          : new Map(),
      ),
    },
    starter: {
      start: async (name: string, input: WorkflowInput) => {
        started.push({ name, input });
        return { executionArn: `arn:aws:states:::execution:m:${name}`, alreadyStarted };
      },
    },
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
    metrics: { addMetric: vi.fn(), addDimension: vi.fn() },
    now: () => new Date('2026-11-23T10:30:00.000Z'),
  };
  return { deps, started, describeSecret };
}

describe('startPropagation', () => {
  it('starts one execution for the AWSCURRENT version, named for the secret and version', async () => {
    const { deps, started } = harness();

    const result = await startPropagation({ secretId: 'prod/app-team/db' }, deps);

    expect(started).toHaveLength(1);
    expect(started[0]?.name).toMatch(new RegExp(`^prod-app-team-db-[0-9a-f]{8}-${CURRENT}-m1$`));
    expect(started[0]?.input).toEqual({
      secretId: ARN,
      versionId: CURRENT,
      trigger: 'event',
      actor: 'eventbridge',
      emergency: false,
      retirePrevious: false,
      moveSeq: 1,
    });
    expect(result.alreadyStarted).toBe(false);
  });

  it('names the execution for the AWSCURRENT move: a replay keeps it, a version made current again gets the next', async () => {
    const move = (versionId: string, seq: number): MoveRecord => ({
      seq,
      versionId,
      at: '2026-11-23T10:00:00.000Z',
      trigger: 'event',
      actor: 'eventbridge',
    });
    const replay = harness(undefined, false, move(CURRENT, 4));
    await startPropagation({ secretId: ARN }, replay.deps);
    expect(replay.started[0]?.name.endsWith(`${CURRENT}-m4`)).toBe(true);
    expect(replay.started[0]?.input.moveSeq).toBe(4);

    const rollback = harness(undefined, false, move(OLD, 4));
    await startPropagation({ secretId: ARN }, rollback.deps);
    expect(rollback.started[0]?.name.endsWith(`${CURRENT}-m5`)).toBe(true);
  });

  it('carries what the rotation’s ledger record says: emergency, actor, reason, retire', async () => {
    const rotation = EMERGENCY;
    const { deps, started } = harness(rotation);

    await startPropagation({ secretId: ARN, versionId: CURRENT }, deps);

    expect(deps.metrics.addMetric).toHaveBeenCalledWith('RotationDuration', 'Milliseconds', 60_000);
    expect(started[0]?.input).toMatchObject({
      trigger: 'emergency',
      actor: rotation.actor,
      reason: rotation.reason,
      emergency: true,
      retirePrevious: true,
    });
  });

  // Review 56, finding 2: a version made AWSCURRENT again inherited its first rotation's options.
  describe('a version made AWSCURRENT again (a rollback) after an emergency rotation made it', () => {
    const rotation: RotationRecord = { ...EMERGENCY, requestedAt: '2026-10-01T08:00:00.000Z' };
    /** What the rotation's own move carries. */
    const THE_ROTATIONS = { trigger: 'emergency', emergency: true, retirePrevious: true, byRotation: true };
    const move = (versionId: string, over: Partial<MoveRecord> = {}): MoveRecord => ({
      seq: 4,
      versionId,
      at: '2026-11-23T10:00:00.000Z',
      trigger: 'scheduled',
      actor: 'secretsmanager',
      ...over,
    });

    it('is a move of its own: no emergency, no retire, the event as trigger, no rotation duration', async () => {
      const { deps, started } = harness({ ...rotation, firstMoveSeq: 3 }, false, move(OLD));

      await startPropagation({ secretId: ARN, versionId: CURRENT, movedAt: '2026-11-23T10:20:00Z' }, deps);

      expect(started[0]?.input).toEqual({
        secretId: ARN,
        versionId: CURRENT,
        trigger: 'event',
        actor: 'eventbridge',
        emergency: false,
        retirePrevious: false,
        moveSeq: 5,
        movedAt: '2026-11-23T10:20:00Z',
        byRotation: false,
      });
      expect(deps.metrics.addMetric).not.toHaveBeenCalledWith(
        'RotationDuration',
        'Milliseconds',
        expect.anything(),
      );
    });

    it('keeps that on a replay or retry of the rollback’s registered move', async () => {
      const { deps, started } = harness(rotation, false, move(CURRENT, { seq: 5, byRotation: false }));

      await startPropagation({ secretId: ARN, versionId: CURRENT, trigger: 'reconcile' }, deps);

      expect(started[0]?.input).toMatchObject({
        trigger: 'reconcile',
        actor: 'sweep',
        emergency: false,
        moveSeq: 5,
      });
    });

    it('while the rotation’s own move, replayed, keeps the rotation’s options', async () => {
      const { deps, started } = harness(rotation, false, move(CURRENT, { seq: 5, byRotation: true }));

      await startPropagation({ secretId: ARN, versionId: CURRENT }, deps);

      expect(started[0]?.input).toMatchObject(THE_ROTATIONS);
    });

    // Review 59: a late rotation event (no version id) after a rollback must not date the new move.
    it('drops an event time no later than the last registered move', async () => {
      const { deps, started } = harness(undefined, false, move(OLD, { movedAt: '2026-11-23T10:20:00Z' }));

      await startPropagation({ secretId: ARN, movedAt: '2026-11-23T10:00:00Z' }, deps);

      expect(started[0]?.input.movedAt).toBeUndefined();
      expect(started[0]?.input.moveSeq).toBe(5);
    });

    // Review 58: moves registered before movedAt existed have none; the last move's from still tells.
    it('is a return when the last move came from it, whatever the moves recorded', async () => {
      const { deps, started } = harness(rotation, false, move(OLD, { fromVersionId: CURRENT }));

      await startPropagation({ secretId: ARN, versionId: CURRENT }, deps);

      expect(started[0]?.input).toMatchObject({ emergency: false, byRotation: false });
    });

    it('is a return too when its first move predates the note, told by the last move’s event time', async () => {
      const { deps, started } = harness(rotation, false, move(OLD, { movedAt: '2026-11-23T09:59:58Z' }));

      await startPropagation({ secretId: ARN, versionId: CURRENT }, deps);

      expect(started[0]?.input).toMatchObject({ emergency: false, byRotation: false });
    });

    // Review 57: a reconcile registered the last move after the emergency was asked for (its claim
    // time is later than the move); the emergency's own move must keep its options.
    it('keeps an emergency’s options when the last move came from a reconcile registered after it was asked for', async () => {
      const recent = { ...rotation, requestedAt: '2026-11-23T10:00:00.000Z' };
      const reconciled = move(OLD, { at: '2026-11-23T10:00:20.000Z', trigger: 'reconcile', actor: 'sweep' });
      const { deps, started } = harness(recent, false, reconciled);

      await startPropagation({ secretId: ARN, versionId: CURRENT, movedAt: '2026-11-23T10:00:40Z' }, deps);

      expect(started[0]?.input).toMatchObject(THE_ROTATIONS);
    });

    it('and a rotation asked for after the last move is that rotation’s move', async () => {
      const recent = { ...rotation, requestedAt: '2026-11-23T10:29:00.000Z' };
      const { deps, started } = harness(recent, false, move(OLD, { movedAt: '2026-11-23T09:59:58Z' }));

      await startPropagation({ secretId: ARN, versionId: CURRENT }, deps);

      expect(started[0]?.input).toMatchObject({
        trigger: 'emergency',
        emergency: true,
        moveSeq: 5,
        byRotation: true,
      });
    });
  });

  it('gives reconcile attempts their own hourly name, so a failed version can be carried again', async () => {
    const { deps, started } = harness();

    await startPropagation({ secretId: ARN, versionId: CURRENT, trigger: 'reconcile' }, deps);

    expect(started[0]?.name.endsWith(`${CURRENT}-m1-r2026112310`)).toBe(true);
    expect(started[0]?.input).toMatchObject({ trigger: 'reconcile', actor: 'sweep' });
  });

  it('gives a manual retry its own name, one a minute', async () => {
    const { deps, started } = harness();

    await startPropagation({ secretId: ARN, versionId: CURRENT, trigger: 'manual' }, deps);

    expect(started[0]?.name.endsWith(`${CURRENT}-m1-m202611231030`)).toBe(true);
  });

  it('reports a duplicate start without failing', async () => {
    const { deps } = harness(undefined, true);
    await expect(startPropagation({ secretId: ARN }, deps)).resolves.toMatchObject({ alreadyStarted: true });
  });

  it.each([
    ['a malformed event', { secret: 'x' }, InvalidEventError],
    ['a secret outside the prefixes', { secretId: 'other/db' }, SecretNotManagedError],
  ])('refuses %s before any call', async (_name, event, errorClass) => {
    const { deps, started, describeSecret } = harness();
    await expect(startPropagation(event, deps)).rejects.toBeInstanceOf(errorClass);
    expect(describeSecret).not.toHaveBeenCalled();
    expect(started).toEqual([]);
  });

  it('ignores a late event for a version no longer AWSCURRENT: nothing started, no error to retry', async () => {
    const { deps, started } = harness();

    const result = await startPropagation({ secretId: ARN, versionId: OLD }, deps);

    expect(result).toEqual({ ignored: `version ${OLD} is no longer AWSCURRENT`, alreadyStarted: false });
    expect(started).toEqual([]);
    expect(deps.metrics.addMetric).toHaveBeenCalledWith('StalePropagationEventsIgnored', 'Count', 1);
    expect(deps.metrics.addMetric).not.toHaveBeenCalledWith('PropagationsStarted', 'Count', 1);
  });

  it('still refuses a secret that has no AWSCURRENT version at all', async () => {
    const { deps, started } = harness();
    deps.secrets.describeSecret.mockResolvedValueOnce({
      ...secret,
      versionIdsToStages: { [OLD]: ['AWSPREVIOUS'] },
    });
    await expect(startPropagation({ secretId: ARN }, deps)).rejects.toBeInstanceOf(RotationStateError);
    expect(started).toEqual([]);
  });
});

describe('moveSeqFor', () => {
  it.each([
    ['no move yet: the first', undefined, CURRENT, 1],
    ['a replay of the current move: the same move', { versionId: CURRENT, seq: 3 }, CURRENT, 3],
    ['another version moved last: the next move', { versionId: OLD, seq: 3 }, CURRENT, 4],
  ] as const)('%s', (_case, known, versionId, expected) => {
    expect(moveSeqFor(known, versionId)).toBe(expected);
  });
});
