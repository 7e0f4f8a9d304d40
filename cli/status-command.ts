import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import type { SecretLedgerSummary } from '../shared/ledger/ledger-port';
import { checkPendingRotations } from '../shared/sweep/check-pending';
import { planSweep, type SweepDecision } from '../shared/sweep/plan-sweep';
import { type CliContext, tableWidth, writeLine } from './cli-context';
import { EXIT, type ExitCode } from './exit-codes';
import { needsAttention, renderStatusTable, statusJson, statusRows } from './status-rows';

/** What `status` and `report` read about every managed secret; never a value. */
export interface ManagedSecretsSnapshot {
  readonly decisions: readonly SweepDecision[];
  /** Undefined when no ledger table is configured. */
  readonly summaries: ReadonlyMap<string, SecretLedgerSummary> | undefined;
  /** Secrets whose unfinished rotation the sweep's rule judges stuck. */
  readonly stuck: ReadonlySet<string>;
}

/**
 * Every managed secret (paginated ListSecrets, no call per secret) with its ledger summary (one
 * BatchGetItem per 100) and the sweep's judgements; unfinished rotations are judged by the sweep's
 * own rule (one ListSecretVersionIds each, never a repair). Notes a missing ledger on stderr.
 */
export async function readManagedSecrets(ctx: CliContext): Promise<ManagedSecretsSnapshot> {
  const { ledger } = ctx.services;
  const secretsManager = new SecretsManagerAdapter(ctx.services.secretsManager);
  const now = ctx.now();
  const secrets = await secretsManager.listManagedSecrets(ctx.prefixes);
  const decisions = planSweep(secrets, { now, graceMs: ctx.graceMs });
  const summaries = ledger ? await ledger.summaries(secrets.map((s) => s.name)) : undefined;
  if (!ledger) {
    writeLine(
      ctx.io.stderr,
      'note: no ledger table (--ledger-table or ROTATOR_LEDGER_TABLE): rotation and propagation columns are empty',
    );
  }
  const pending = await checkPendingRotations(decisions, secretsManager, {
    now,
    stuckAfterMs: ctx.stuckAfterMs,
    repair: false,
  });
  return { decisions, summaries, stuck: new Set(pending.stuck.map((s) => s.secret)) };
}

/**
 * `rotator status`: every managed secret with its ledger summary and flags, as a table or JSON.
 * Exit 2 when a secret is overdue or stuck.
 */
export async function runStatus(ctx: CliContext): Promise<ExitCode> {
  const { decisions, summaries, stuck } = await readManagedSecrets(ctx);
  const rows = statusRows({ decisions, ledger: summaries, stuck });
  if (ctx.options.json) writeLine(ctx.io.stdout, JSON.stringify(statusJson(rows), null, 2));
  else writeLine(ctx.io.stdout, renderStatusTable(rows, tableWidth(ctx), ctx.now()));
  return needsAttention(rows) ? EXIT.attention : EXIT.ok;
}
