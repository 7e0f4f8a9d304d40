import { InvalidEventError } from '../errors';
import { type RevokePreviousDeps, type RevokePreviousResult, revokePreviousStep } from './revoke-previous';
import { type RollBackDeps, type RollBackResult, rollBackStep } from './roll-back';

/**
 * True when the event is one of the propagation workflow's requests to a rotation function (it
 * has `rotatorAction`); Secrets Manager's own events have `Step` instead.
 */
export function isRotatorAction(event: unknown): boolean {
  return (
    event !== null &&
    typeof event === 'object' &&
    (event as Record<string, unknown>).rotatorAction !== undefined
  );
}

/**
 * Runs the workflow's request: `revokePrevious` (after a propagation succeeded) or `rollBack`
 * (after one failed, for secrets that opted in). Anything else is an InvalidEventError.
 */
export function runRotatorAction(
  event: unknown,
  deps: RevokePreviousDeps & RollBackDeps,
): Promise<RevokePreviousResult | RollBackResult> {
  const action = (event as { rotatorAction?: unknown }).rotatorAction;
  if (action === 'revokePrevious') return revokePreviousStep(event, deps);
  if (action === 'rollBack') return rollBackStep(event, deps);
  throw new InvalidEventError(
    `Unknown rotatorAction (known: revokePrevious, rollBack): ${typeof action === 'string' ? action.slice(0, 40) : typeof action}`,
  );
}
