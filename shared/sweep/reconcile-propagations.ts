import { mapWithLimit } from '../concurrency';
import { safeMessage } from '../errors';
import type { LedgerPort, SecretLedgerSummary } from '../ledger/ledger-port';
import { decideReconcile, type ReconcileReason } from './plan-reconcile';
import type { SecretSummary } from './secret-summary';

/** Starts the propagation of one version (the real one starts the Step Functions workflow). */
export interface PropagationStarter {
  start(request: { secretId: string; versionId: string; trigger: 'reconcile' }): Promise<void>;
}

/** What reconciling needs: the ledger's summaries and a way to start propagations. */
export interface ReconcileDeps {
  readonly ledger: Pick<LedgerPort, 'summaries'>;
  readonly starter: PropagationStarter;
}

export interface ReconcileReport {
  readonly propagationsStarted: { secret: string; versionId: string; reason: ReconcileReason }[];
  readonly propagationsDeferred: string[];
  readonly propagationFailures: { secret: string; error: string }[];
}

/** BatchGetItem reads at most 100 items a call. */
const SUMMARIES_PER_CALL = 100;

/**
 * Starts a propagation for each listed secret whose AWSCURRENT version has not reached the
 * clusters (see {@link decideReconcile}), at most `maxPerRun` a run; a failure on one secret is
 * reported and does not stop the others. Ledger summaries are read 100 secrets a call.
 */
export async function reconcilePropagations(
  secrets: readonly SecretSummary[],
  deps: ReconcileDeps,
  options: { readonly now: Date; readonly leaseMs: number; readonly maxPerRun: number },
): Promise<ReconcileReport> {
  const summaries = await readSummaries(
    deps.ledger,
    secrets.map((s) => s.name),
  );
  const toStart = secrets.flatMap((secret) => {
    const decision = decideReconcile(secret, summaries.get(secret.name), options);
    return decision.action === 'start' ? [{ secret, ...decision }] : [];
  });
  const report: ReconcileReport = {
    propagationsStarted: [],
    propagationsDeferred: toStart.slice(options.maxPerRun).map((s) => s.secret.name),
    propagationFailures: [],
  };
  await mapWithLimit(toStart.slice(0, options.maxPerRun), 5, async ({ secret, versionId, reason }) => {
    try {
      await deps.starter.start({ secretId: secret.name, versionId, trigger: 'reconcile' });
      report.propagationsStarted.push({ secret: secret.name, versionId, reason });
    } catch (error) {
      report.propagationFailures.push({ secret: secret.name, error: safeMessage(error) });
    }
  });
  return report;
}

async function readSummaries(
  ledger: Pick<LedgerPort, 'summaries'>,
  names: readonly string[],
): Promise<Map<string, SecretLedgerSummary>> {
  const all = new Map<string, SecretLedgerSummary>();
  for (let i = 0; i < names.length; i += SUMMARIES_PER_CALL) {
    for (const [name, summary] of await ledger.summaries(names.slice(i, i + SUMMARIES_PER_CALL))) {
      all.set(name, summary);
    }
  }
  return all;
}
