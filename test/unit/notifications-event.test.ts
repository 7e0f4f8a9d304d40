import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../shared/errors';
import { parseExecutionStatusEvent } from '../../shared/notifications/execution-status-event';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation';
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf';

function event(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    account: '123456789012',
    region: 'us-east-1',
    detail: {
      executionArn: `${STATE_MACHINE.replace('stateMachine', 'execution')}:exec-1`,
      stateMachineArn: STATE_MACHINE,
      name: 'exec-1',
      status: 'FAILED',
      startDate: 1_000,
      stopDate: 61_000,
      input: JSON.stringify({
        secretId: SECRET_ARN,
        versionId: VERSION,
        trigger: 'event',
        actor: 'eventbridge',
      }),
      inputDetails: { included: true },
      output: null,
      error: 'PropagationFailed',
      cause: 'See the ledger entry and the alert for this secret version',
      ...detail,
    },
  };
}

describe('parseExecutionStatusEvent', () => {
  it.each(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])('reads an execution that ended %s', (status) => {
    expect(parseExecutionStatusEvent(event({ status }), STATE_MACHINE)).toEqual({
      executionName: 'exec-1',
      stateMachineArn: STATE_MACHINE,
      status,
      secretId: SECRET_ARN,
      versionId: VERSION,
      errorName: 'PropagationFailed',
      durationMs: 60_000,
    });
  });

  it.each([
    ['a running execution', { status: 'RUNNING' }, /not final/],
    ['another state machine', { stateMachineArn: `${STATE_MACHINE}-other` }, /another state machine/],
  ])('ignores %s', (_case, detail, reason) => {
    expect(parseExecutionStatusEvent(event(detail), STATE_MACHINE)).toEqual({
      ignored: expect.stringMatching(reason),
    });
  });

  it('keeps an error name of one word only, never a sentence', () => {
    const parsed = parseExecutionStatusEvent(event({ error: 'Error: body {"message":"x"}' }), STATE_MACHINE);
    expect(parsed).not.toHaveProperty('errorName');
  });

  it.each([
    ['no input', { input: null }],
    ['input that is not JSON', { input: 'not json' }],
    ['input without a version', { input: JSON.stringify({ secretId: SECRET_ARN }) }],
  ])('refuses an ended execution with %s', (_case, detail) => {
    expect(() => parseExecutionStatusEvent(event(detail), STATE_MACHINE)).toThrow(InvalidEventError);
  });

  it('refuses an event of another kind, naming fields only', () => {
    const error = (() => {
      try {
        parseExecutionStatusEvent({ source: 'aws.secretsmanager', detail: { name: 'x' } }, STATE_MACHINE);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error?.message).toMatch(/source/);
  });
});
