import { randomUUID } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { toAwsCallError } from '../errors';
import type { ExecutionStarter } from '../workflow/start-propagation';
import type { WorkflowInput } from '../workflow/workflow-state';

/**
 * {@link ExecutionStarter} over Step Functions' StartExecution. StartExecution with the name and
 * input of a RUNNING execution succeeds and returns that execution, so each start attempt adds its
 * own `startId` to the input: a second delivery of the same move then differs in input and gets
 * ExecutionAlreadyExists, reported as already started, not counted as a new start (review L5).
 * The SDK's own retries of one attempt resend the same input and stay idempotent.
 */
export class StepFunctionsStarter implements ExecutionStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: WorkflowInput) {
    try {
      const out = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify({ ...input, startId: randomUUID() }),
        }),
      );
      return { executionArn: out.executionArn, alreadyStarted: false };
    } catch (error) {
      // Same name, different input or a finished execution: this version was already carried.
      if ((error as Error)?.name === 'ExecutionAlreadyExists') return { alreadyStarted: true };
      throw toAwsCallError('StartExecution', name, error);
    }
  }
}
