/**
 * One entry for every Task state of the propagation workflow: the state's Parameters name the
 * `action`, the rest is that step's input. Errors leave as typed errors whose names the state
 * machine's Retry and Catch rules match: TransientError is retried with backoff and jitter,
 * everything else is final and goes to the failure path.
 */
import { asRetryable } from '../errors';
import type { RotationLogger } from '../observability';
import * as z from '../schema';
import { claimStep } from './claim-step';
import { finishClusterStep } from './cluster-outcome';
import { type ClusterStepDeps, checkSyncStep, planStep, resyncStep } from './cluster-steps';
import type { LedgerStepDeps } from './ledger-step-deps';
import { parseStepInput } from './parse-step-input';
import { recordFailureStep } from './record-failure-step';
import { noteRollbackStep, recordStep } from './record-step';
import { advanceRestartsStep, type RestartStepDeps } from './restart-steps';
import { noteWindowWaitStep } from './restart-window-steps';
import { retirePreviousStep } from './retire-previous-step';

export type WorkflowStepDeps = ClusterStepDeps &
  RestartStepDeps &
  LedgerStepDeps & { readonly logger: RotationLogger };

const STEPS = {
  claim: claimStep,
  plan: planStep,
  resync: resyncStep,
  'check-sync': checkSyncStep,
  'advance-restarts': advanceRestartsStep,
  'note-window-wait': noteWindowWaitStep,
  'finish-cluster': finishClusterStep,
  record: recordStep,
  'record-failure': recordFailureStep,
  'retire-previous': retirePreviousStep,
  'note-rollback': noteRollbackStep,
} as const satisfies Record<string, (raw: unknown, deps: WorkflowStepDeps) => Promise<unknown>>;

export type WorkflowAction = keyof typeof STEPS;
export const WORKFLOW_ACTIONS = Object.keys(STEPS) as WorkflowAction[];

const actionSchema = z.object({ action: z.enum(WORKFLOW_ACTIONS as [WorkflowAction, ...WorkflowAction[]]) });

export async function runWorkflowStep(event: unknown, deps: WorkflowStepDeps): Promise<unknown> {
  const { action } = parseStepInput(actionSchema, event, 'dispatch');
  deps.logger.appendKeys({ action });
  try {
    return await STEPS[action](event, deps);
  } catch (error) {
    // Throttling, 5xx and dropped connections leave as TransientError, which the state machine retries.
    throw asRetryable(error);
  }
}
