import { describe, expect, it, vi } from 'vitest';
import { synthLocalStack } from '../../../harness/local-stack';
import { definitionFromTemplate, LocalWorkflow } from '../../../harness/local-workflow';

vi.stubEnv('CDK_VALIDATION', 'false');

/**
 * The revoke path of the synthesized definition (issue 10 item 3), run by aws-local-stepfunctions
 * with every function faked: the database rotation function is asked to revoke the previous
 * credential only after a succeeded record, only for a secret it rotates, and before AWSPREVIOUS is
 * retired; a failed propagation revokes nothing.
 */
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const { template } = synthLocalStack(
  {
    managedPrefixes: ['prod/app-team/'],
    databaseRotation: {},
    propagation: { clusterNames: ['c1'] },
  },
  { bundle: false },
);
const arnOf = (logicalId: string) => `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`;
const { definition } = definitionFromTemplate(template, ({ logicalId }) =>
  template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
    ? 'arn:aws:sns:us-east-1:123456789012:alerts'
    : arnOf(logicalId),
);
const [databaseFunctionId = ''] = Object.keys(template.Resources).filter(
  (id) =>
    id.startsWith('OrchestratorRotateDatabaseSecret') &&
    template.Resources[id]?.Type === 'AWS::Lambda::Function',
);
const DATABASE_FUNCTION = arnOf(databaseFunctionId);
const [rotationFunctionId = ''] = Object.keys(template.Resources).filter(
  (id) =>
    id.startsWith('OrchestratorRotateSecret') && template.Resources[id]?.Type === 'AWS::Lambda::Function',
);
const ROTATION_FUNCTION = arnOf(rotationFunctionId);
const secret = {
  name: 'prod/app-team/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  tags: {},
};

function fakeFunctions(options: {
  readonly rotatedBy: string;
  readonly outcome?: 'succeeded' | 'failed';
  readonly retirePrevious?: boolean;
  readonly revoke?: () => unknown;
  readonly rollBack?: boolean;
  readonly rollBackAnswer?: () => unknown;
}) {
  const calls: string[] = [];
  const revokeEvents: unknown[] = [];
  const invoke = async (arn: string, payload: unknown) => {
    const p = payload as Record<string, unknown>;
    if (arn === DATABASE_FUNCTION || arn === ROTATION_FUNCTION) {
      const who = arn === DATABASE_FUNCTION ? 'database' : 'rotation';
      calls.push(`${who}:${String(p.rotatorAction)}`);
      revokeEvents.push(p);
      if (p.rotatorAction === 'rollBack') {
        return options.rollBackAnswer
          ? options.rollBackAnswer()
          : {
              status: 'rolled-back',
              previousVersionId: p.previousVersionId,
              versionId: p.versionId,
              secretName: secret.name,
            };
      }
      return options.revoke ? options.revoke() : { status: 'revoked', username: 'app_clone' };
    }
    const action = String(p.action);
    calls.push(action);
    switch (action) {
      case 'claim':
        return {
          claimed: true,
          executionId: 'x',
          secret,
          versionId: VERSION,
          previousVersionId: 'a'.repeat(36),
          moveSeq: 1,
          clusters: ['c1'],
          budget: { inFlight: 5, percent: 25, canary: 1 },
          startedAt: '2026-12-01T10:00:00.000Z',
          trigger: 'scheduled',
          actor: 'me',
          retirePrevious: options.retirePrevious ?? false,
          rotatedBy: options.rotatedBy,
        };
      case 'plan':
        return { plannedAt: 'x', resync: [], notRefreshing: [] };
      case 'resync':
        return { done: true, pending: [], synced: [], failed: [], annotatedAt: 'x', deadline: 'y' };
      case 'advance-restarts':
        return { done: true, invocations: 1 };
      case 'finish-cluster':
        return {
          cluster: 'c1',
          outcome: options.outcome ?? 'succeeded',
          synced: [],
          restarted: [],
          failed: [],
        };
      case 'record':
        return {
          outcome: options.outcome ?? 'succeeded',
          rollBack: options.rollBack ?? false,
          alert: { subject: 's', message: 'm' },
        };
      case 'note-rollback':
        return { subject: 'Propagation failed, rolled back: prod/app-team/db', message: 'noted' };
      default:
        return {};
    }
  };
  const alerts: { Subject?: string; Message: string }[] = [];
  const run = new LocalWorkflow(definition, {
    awsEndpoint: 'http://unused',
    invokeLambda: invoke,
    retryPauseMs: 1,
    publishAlert: async (input) => {
      alerts.push(input);
      return {};
    },
  });
  return { run, calls, revokeEvents, alerts };
}

const input = { secretId: secret.arn, versionId: VERSION, trigger: 'scheduled', actor: 'me' };

describe('revoking the previous credential after a propagation', () => {
  it('asks the database rotation function once the record says succeeded, then retires AWSPREVIOUS', async () => {
    const fake = fakeFunctions({ rotatedBy: DATABASE_FUNCTION, retirePrevious: true });

    const execution = await fake.run.run('revoke-ok', input);

    expect(execution.status).toBe('SUCCEEDED');
    expect(fake.calls.slice(-3)).toEqual(['record', 'database:revokePrevious', 'retire-previous']);
    expect(fake.revokeEvents).toEqual([
      { rotatorAction: 'revokePrevious', secretId: secret.arn, versionId: VERSION },
    ]);
    expect(fake.alerts).toEqual([]);
  });

  it('revokes nothing for a secret another function rotates', async () => {
    const fake = fakeFunctions({ rotatedBy: arnOf('OrchestratorRotateSecretABCD') });

    const execution = await fake.run.run('revoke-other', input);

    expect(execution.status).toBe('SUCCEEDED');
    expect(fake.revokeEvents).toEqual([]);
  });

  it('revokes nothing when the propagation failed, and alerts', async () => {
    const fake = fakeFunctions({ rotatedBy: DATABASE_FUNCTION, outcome: 'failed' });

    const execution = await fake.run.run('revoke-failed-propagation', input);

    expect(execution.status).toBe('FAILED');
    expect(fake.revokeEvents).toEqual([]);
    expect(fake.alerts).toHaveLength(1);
  });

  it('a revoke that keeps failing alerts, names no value, and retires nothing', async () => {
    const fake = fakeFunctions({
      rotatedBy: DATABASE_FUNCTION,
      retirePrevious: true,
      revoke: () => {
        throw Object.assign(new Error('master cannot log in'), { name: 'MasterSecretError' });
      },
    });

    const execution = await fake.run.run('revoke-fails', input);

    expect(execution.status).toBe('FAILED');
    expect(fake.calls).not.toContain('retire-previous');
    expect(fake.calls).not.toContain('record-failure');
    expect(fake.alerts).toEqual([
      {
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
        Subject: 'Revoking the previous credential failed',
        Message: `prod/app-team/db (new version ${VERSION}): MasterSecretError; the previous credential may still log in`,
      },
    ]);
  });
});

describe('rolling back after a failed propagation (issue 10 item 3b)', () => {
  it.each([
    ['the database rotation function', DATABASE_FUNCTION, 'database'],
    ['the rotation function', ROTATION_FUNCTION, 'rotation'],
  ])(
    'asks %s that rotates the secret, then notes it in the ledger and alerts',
    async (_name, rotatedBy, who) => {
      const fake = fakeFunctions({ rotatedBy, outcome: 'failed', rollBack: true, retirePrevious: true });

      const execution = await fake.run.run(`roll-back-${who}`, input);

      expect(execution.status).toBe('FAILED');
      expect(fake.calls.slice(-3)).toEqual(['record', `${who}:rollBack`, 'note-rollback']);
      expect(fake.revokeEvents).toEqual([
        {
          rotatorAction: 'rollBack',
          secretId: secret.arn,
          versionId: VERSION,
          previousVersionId: 'a'.repeat(36),
        },
      ]);
      expect(fake.calls).not.toContain('retire-previous');
      expect(fake.alerts.map((a) => a.Subject)).toEqual([
        'Propagation failed, rolled back: prod/app-team/db',
      ]);
    },
  );

  it('does not roll back when the record does not ask for it (no opt-in, an emergency, no failed rollout)', async () => {
    const fake = fakeFunctions({ rotatedBy: DATABASE_FUNCTION, outcome: 'failed', rollBack: false });

    await fake.run.run('no-roll-back', input);

    expect(fake.revokeEvents).toEqual([]);
    expect(fake.alerts).toHaveLength(1);
  });

  it('a rollback that keeps failing alerts that AWSCURRENT stays on the failed version', async () => {
    const fake = fakeFunctions({
      rotatedBy: DATABASE_FUNCTION,
      outcome: 'failed',
      rollBack: true,
      rollBackAnswer: () => {
        throw Object.assign(new Error('refused'), { name: 'RollbackRefusedError' });
      },
    });

    const execution = await fake.run.run('roll-back-fails', input);

    expect(execution.status).toBe('FAILED');
    expect(fake.calls).not.toContain('note-rollback');
    expect(fake.alerts).toEqual([
      {
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
        Subject: 'Propagation failed, and rolling back failed',
        Message: `prod/app-team/db (version ${VERSION}): rolling back to ${'a'.repeat(36)} failed: RollbackRefusedError; AWSCURRENT stays on the failed version`,
      },
    ]);
  });
});
