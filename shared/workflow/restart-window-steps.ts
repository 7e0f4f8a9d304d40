/**
 * The workflow's `note-window-wait` step: before the state machine's WaitForWindow, record in the
 * ledger that this propagation waits for a restart window (when, how many consumers) and extend its
 * claim's lease past the window, so neither a reconcile nor another execution takes it over.
 */
import type { LedgerPort } from '../ledger/ledger-port';
import type { RotationLogger, RotationMetrics } from '../observability';
import * as z from '../schema';
import { parseStepInput } from './parse-step-input';
import { cappedRefsSchema, secretRefSchema } from './workflow-state';

export interface WindowWaitStepDeps {
  readonly ledger: Pick<LedgerPort, 'noteWindowWait'>;
  /** The claim's lease: the work after the window gets as long again as the whole propagation had. */
  readonly leaseMs: number;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
  readonly now: () => Date;
}

const noteWindowWaitInputSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  secret: secretRefSchema,
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  moveSeq: z.number().check(z.int(), z.positive()),
  executionId: z.string().check(z.minLength(1), z.maxLength(2048)),
  restarts: z.object({ waitUntil: z.iso.datetime(), held: cappedRefsSchema }),
});

/**
 * Notes the wait (`waitUntil`, the held count) on this execution's claim and extends its lease to
 * `waitUntil + leaseMs`. Only the claim's holder may (PropagationHeldByOtherError otherwise: that
 * execution must not go on restarting). Returns what it noted.
 */
export async function noteWindowWaitStep(
  raw: unknown,
  deps: WindowWaitStepDeps,
): Promise<{ until: string; held: number; leaseUntil: string }> {
  const input = parseStepInput(noteWindowWaitInputSchema, raw, 'note-window-wait');
  const { waitUntil, held } = input.restarts;
  const leaseUntil = new Date(Date.parse(waitUntil) + deps.leaseMs).toISOString();
  await deps.ledger.noteWindowWait(
    input.secret.name,
    { versionId: input.versionId, moveSeq: input.moveSeq },
    input.executionId,
    {
      cluster: input.cluster,
      until: waitUntil,
      held: held.count,
      notedAt: deps.now().toISOString(),
      leaseUntil,
    },
  );
  deps.metrics.addMetric('RestartsHeldForWindow', 'Count', held.count);
  deps.logger.info('waiting for a restart window', {
    cluster: input.cluster,
    until: waitUntil,
    held: held.count,
  });
  return { until: waitUntil, held: held.count, leaseUntil };
}
