/**
 * The workflow's front door: an EventBridge rule target (and the sweep's reconciler) that turns
 * "a managed secret has a new AWSCURRENT version" into exactly one Step Functions execution, named
 * for the secret, version and AWSCURRENT move. What the rotation's ledger record says (emergency, actor, reason,
 * retire the previous version) travels with it.
 */

import { InvalidEventError, RotationStateError } from '../errors';
import type { LedgerPort, MoveRecord, RotationRecord } from '../ledger/ledger-port';
import type { RotationLogger, RotationMetrics } from '../observability';
import * as z from '../schema';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretsPort } from '../secrets/secrets-port';
import { versionWith } from '../secrets/versions';
import { executionName } from './execution-name';
import type { WorkflowInput } from './workflow-state';

const startEventSchema = z.object({
  secretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  /** When given, must be the AWSCURRENT version: an older version is never propagated. */
  versionId: z.optional(z.string().check(z.minLength(32), z.maxLength(64))),
  clusters: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  /** `reconcile` when the sweep found a version the clusters have not seen; `event` otherwise. */
  trigger: z._default(z.enum(['event', 'reconcile', 'manual']), 'event'),
  /** The event's time (EventBridge's `time`): when AWSCURRENT moved. Absent from the sweep's reconciles. */
  movedAt: z.optional(z.iso.datetime({ offset: true })),
});

export interface ExecutionStarter {
  /** Starts the workflow; `alreadyStarted` when an execution of that name exists. */
  start(
    name: string,
    input: WorkflowInput,
  ): Promise<{ readonly executionArn?: string; readonly alreadyStarted: boolean }>;
}

export interface StartPropagationDeps {
  readonly managedPrefixes: readonly string[];
  readonly secrets: Pick<SecretsPort, 'describeSecret'>;
  readonly ledger: Pick<LedgerPort, 'findRotation' | 'summaries'>;
  readonly starter: ExecutionStarter;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
  readonly now: () => Date;
}

export type StartPropagationResult =
  | {
      readonly ignored?: undefined;
      readonly executionName: string;
      readonly executionArn?: string;
      readonly alreadyStarted: boolean;
      readonly input: WorkflowInput;
    }
  /** A benign event that starts nothing (a version no longer AWSCURRENT): not an error, no retry. */
  | { readonly ignored: string; readonly alreadyStarted: false };

export async function startPropagation(
  raw: unknown,
  deps: StartPropagationDeps,
): Promise<StartPropagationResult> {
  const parsed = startEventSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`);
    throw new InvalidEventError(`Malformed propagation event (${fields.join('; ')})`);
  }
  const event = parsed.data;
  const secret = await describeManagedSecret(deps.secrets, event.secretId, deps.managedPrefixes);
  const current = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  if (!current) throw new RotationStateError(`Secret "${secret.name}" has no AWSCURRENT version`);
  if (event.versionId && event.versionId !== current) {
    // A late or out-of-order event: the version it names moved on, and the move that replaced it
    // has its own event. Throwing made Lambda retry it twice and land it in the dead-letter queue
    // with an alarm, for a benign case (review L5).
    deps.logger.info('propagation event ignored: version no longer AWSCURRENT', {
      secretName: secret.name,
      versionId: event.versionId,
      currentVersionId: current,
    });
    deps.metrics.addMetric('StalePropagationEventsIgnored', 'Count', 1);
    return { ignored: `version ${event.versionId} is no longer AWSCURRENT`, alreadyStarted: false };
  }
  const [rotation, summary] = await Promise.all([
    deps.ledger.findRotation(secret.name, current),
    deps.ledger.summaries([secret.name]).then((found) => found.get(secret.name)),
  ]);
  // The move names the execution, so a version made AWSCURRENT again (a rollback) gets a new
  // execution; the claim step registers the move and decides.
  const moveSeq = moveSeqFor(summary?.currentMove, current);
  // An event no later than the last registered move is a late one about an earlier move (EventBridge
  // retries for hours; most rotation events name no version): its time is not this move's.
  const last = summary?.currentMove;
  const movedAt =
    event.movedAt && (!last || Date.parse(event.movedAt) > Date.parse(last.movedAt ?? last.at))
      ? event.movedAt
      : undefined;
  const byRotation = rotation !== undefined && isRotationMove(rotation, summary?.currentMove, current);
  const own = byRotation ? rotation : undefined;
  const input: WorkflowInput = {
    secretId: secret.arn,
    versionId: current,
    trigger: event.trigger === 'event' && own ? own.trigger : event.trigger,
    actor: own?.actor ?? (event.trigger === 'reconcile' ? 'sweep' : 'eventbridge'),
    reason: own?.reason,
    emergency: own?.emergency ?? false,
    retirePrevious: own?.retirePrevious ?? false,
    clusters: event.clusters,
    moveSeq,
    ...(movedAt && { movedAt }),
    ...(rotation && { byRotation }),
  };
  // A reconcile attempt gets its own name (one per hour) and a manual one its own (one per
  // minute), so a version whose propagation failed can be carried again; the ledger's claim still
  // lets only one execution do the work.
  const stamp = deps.now().toISOString().replace(/\D/g, '');
  const suffix =
    event.trigger === 'reconcile'
      ? `r${stamp.slice(0, 10)}`
      : event.trigger === 'manual'
        ? `m${stamp.slice(0, 12)}`
        : undefined;
  const name = executionName(secret.name, secret.arn, current, moveSeq, suffix);
  const started = await deps.starter.start(name, input);
  deps.logger.info(started.alreadyStarted ? 'propagation already started' : 'propagation started', {
    secretName: secret.name,
    versionId: current,
    moveSeq,
    executionName: name,
    trigger: input.trigger,
  });
  deps.metrics.addMetric(
    started.alreadyStarted ? 'DuplicatePropagationsSkipped' : 'PropagationsStarted',
    'Count',
    1,
  );
  if (own && !started.alreadyStarted) {
    // From the ledger's request time to AWSCURRENT moving (this event): how long the rotation took.
    const took = Math.max(0, deps.now().getTime() - Date.parse(own.requestedAt));
    deps.metrics.addMetric('RotationDuration', 'Milliseconds', took);
  }
  return {
    executionName: name,
    executionArn: started.executionArn,
    alreadyStarted: started.alreadyStarted,
    input,
  };
}

/**
 * The move an event for AWSCURRENT `versionId` carries, given the ledger's current move: that
 * move's sequence number if it names this version (a replay or a second delivery), else the next.
 * @example moveSeqFor({ versionId: 'v2', seq: 3 }, 'v2') // 3; for 'v3' it is 4, with no move 1
 */
export function moveSeqFor(
  known: Pick<MoveRecord, 'versionId' | 'seq'> | undefined,
  versionId: string,
): number {
  return known?.versionId === versionId ? known.seq : (known?.seq ?? 0) + 1;
}

/**
 * Whether AWSCURRENT reaching `versionId` is `rotation`'s own move (its new version made current),
 * so the propagation carries the rotation's trigger, actor, emergency and retire options, or a
 * later move back to that version (a rollback, any label move), which carries none of them: a
 * rollback must not run as the version's first emergency did (no canary, windows bypassed).
 * - A replay or retry of the registered move keeps what that move recorded (moves recorded before
 *   `byRotation` existed count as the rotation's, as they were propagated).
 * - A new move to a version whose first move is noted on its record (`firstMoveSeq`), or that the
 *   last move came from, is a return.
 * - Otherwise, when the last move's event time is known, the rotation's own if asked for after it
 *   (a rotation needs its previous version current first); this covers versions first made current
 *   before `firstMoveSeq` was noted.
 * - With no event time (the last move came from a reconcile or a manual start), the rotation's own:
 *   the registration time is later than the move, and an emergency asked for between the two must
 *   not lose its options.
 */
export function isRotationMove(
  rotation: Pick<RotationRecord, 'requestedAt' | 'firstMoveSeq'>,
  currentMove: Pick<MoveRecord, 'versionId' | 'fromVersionId' | 'movedAt' | 'byRotation'> | undefined,
  versionId: string,
): boolean {
  if (currentMove?.versionId === versionId) return currentMove.byRotation ?? true;
  if (rotation.firstMoveSeq !== undefined) return false;
  // The last move came from this version: it was current before (the usual rollback).
  if (currentMove?.fromVersionId === versionId) return false;
  if (!currentMove?.movedAt) return true;
  return Date.parse(rotation.requestedAt) > Date.parse(currentMove.movedAt);
}

/** The sweep's reconciler starts propagations exactly as the EventBridge rules do. */
export function workflowPropagationStarter(deps: StartPropagationDeps) {
  return {
    async start(request: { secretId: string; versionId: string; trigger: 'reconcile' }): Promise<void> {
      await startPropagation(request, deps);
    },
  };
}
