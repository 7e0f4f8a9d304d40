import { describe, expect, it } from 'vitest';
import { AwsCallError } from '../../shared/errors';
import { configureSchedules, type ScheduleConfigurePort } from '../../shared/sweep/configure-schedules';
import type { ScheduleAction, ScheduleDecision } from '../../shared/sweep/plan-schedules';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-secret';
const CONFIGURE: ScheduleAction = {
  kind: 'configure',
  schedule: { kind: 'days', days: 30 },
  rotationFunctionArn: FN,
  source: 'rule prod/app/',
  reason: 'rotation off → every 30 days',
};

function decision(name: string, action: ScheduleAction = CONFIGURE): ScheduleDecision {
  return {
    secret: { name, arn: `arn:${name}`, rotationEnabled: false, versionIdsToStages: {}, tags: {} },
    action,
  };
}

/** A port that records each call and fails for the secret ids in `failing`. */
function fakePort(failing: readonly string[] = []) {
  const calls: Parameters<ScheduleConfigurePort['configureRotation']>[0][] = [];
  const port: ScheduleConfigurePort = {
    async configureRotation(request) {
      calls.push(request);
      if (failing.includes(request.secretId)) {
        throw new AwsCallError(
          'RotateSecret',
          'AccessDeniedException',
          400,
          `RotateSecret on "${request.secretId}" failed: AccessDeniedException`,
        );
      }
    },
  };
  return { calls, port };
}

describe('configureSchedules', () => {
  it('configures each secret that needs it with the rotation function and the wanted schedule, by ARN', async () => {
    const { calls, port } = fakePort();

    const report = await configureSchedules(
      [decision('prod/app/a'), decision('prod/app/b', { kind: 'none', reason: 'matches' })],
      { port, cap: 10 },
    );

    expect(calls).toEqual([
      { secretId: 'arn:prod/app/a', rotationLambdaArn: FN, schedule: { kind: 'days', days: 30 } },
    ]);
    expect(report).toEqual({
      schedulesConfigured: [
        { secret: 'prod/app/a', source: 'rule prod/app/', reason: 'rotation off → every 30 days' },
      ],
      schedulesDeferred: [],
      schedulesLeftToOtherFunctions: [],
      scheduleFailures: [],
    });
  });

  it('names the function each decision chose', async () => {
    const { calls, port } = fakePort();
    const database = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-database-secret';

    await configureSchedules(
      [decision('prod/app/a'), decision('prod/app/db', { ...CONFIGURE, rotationFunctionArn: database })],
      { port, cap: 10 },
    );

    expect(Object.fromEntries(calls.map((call) => [call.secretId, call.rotationLambdaArn]))).toEqual({
      'arn:prod/app/a': FN,
      'arn:prod/app/db': database,
    });
  });

  it('configures at most `cap` and defers the rest to the next run', async () => {
    const { calls, port } = fakePort();
    const decisions = ['a', 'b', 'c'].map((n) => decision(`prod/app/${n}`));

    const report = await configureSchedules(decisions, { port, cap: 2 });

    expect(calls).toHaveLength(2);
    expect(report.schedulesConfigured).toHaveLength(2);
    expect(report.schedulesDeferred).toEqual(['prod/app/c']);
  });

  it('reports a failure and goes on with the others', async () => {
    const { calls, port } = fakePort(['arn:prod/app/b']);
    const decisions = ['a', 'b', 'c'].map((n) => decision(`prod/app/${n}`));

    const report = await configureSchedules(decisions, { port, cap: 10 });

    expect(calls).toHaveLength(3);
    expect(report.schedulesConfigured.map((c) => c.secret).sort()).toEqual(['prod/app/a', 'prod/app/c']);
    expect(report.scheduleFailures).toEqual([
      { secret: 'prod/app/b', error: 'RotateSecret on "arn:prod/app/b" failed: AccessDeniedException' },
    ]);
  });

  it('reports the secrets left to another function, without calling anything for them', async () => {
    const { calls, port } = fakePort();

    const report = await configureSchedules(
      [
        decision('prod/app/rds', { kind: 'none', reason: 'rotated-by-another-function' }),
        decision('prod/app/a'),
      ],
      { port, cap: 10 },
    );

    expect(calls.map((call) => call.secretId)).toEqual(['arn:prod/app/a']);
    expect(report.schedulesLeftToOtherFunctions).toEqual(['prod/app/rds']);
  });

  it('reports unreadable tags as failures without calling anything', async () => {
    const { calls, port } = fakePort();
    const error = 'Tag rotator:schedule must be days (e.g. 30d, 1–1000), rate(…) or cron(…)';

    const report = await configureSchedules([decision('prod/app/a', { kind: 'invalid-tag', error })], {
      port,
      cap: 10,
    });

    expect(calls).toEqual([]);
    expect(report.scheduleFailures).toEqual([{ secret: 'prod/app/a', error }]);
  });
});
