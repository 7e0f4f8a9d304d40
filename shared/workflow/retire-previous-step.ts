import * as z from '../schema';
import type { LedgerStepDeps } from './ledger-step-deps';
import { parseStepInput } from './parse-step-input';
import { claimSchema } from './workflow-state';

const retireInputSchema = z.object({ claim: claimSchema });

/** Retire the previous version (remove AWSPREVIOUS) once every consumer runs the new one. */
export async function retirePreviousStep(raw: unknown, deps: LedgerStepDeps): Promise<{ retired?: string }> {
  const { claim } = parseStepInput(retireInputSchema, raw, 'retire-previous');
  if (!claim.previousVersionId) return {};
  // Idempotent: a retried step, or a label moved on since the claim, finds nothing to remove.
  const now = await deps.secrets.describeSecret(claim.secret.arn);
  if (!(now.versionIdsToStages[claim.previousVersionId] ?? []).includes('AWSPREVIOUS')) return {};
  await deps.secrets.removeStage(claim.secret.arn, 'AWSPREVIOUS', claim.previousVersionId);
  deps.logger.info('previous version retired', { previousVersionId: claim.previousVersionId });
  return { retired: claim.previousVersionId };
}
