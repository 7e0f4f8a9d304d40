import { SecretsManagerAdapter } from '../shared/aws/secrets-manager-adapter';
import type { PropagationRecord } from '../shared/ledger/ledger-port';
import { assertManaged } from '../shared/managed-prefixes';
import type { RotationRequestResult } from '../shared/requests/request-rotation';
import type { AfterRequested, RequestedRotation } from './after-requested';
import { type CliContext, requireLedger, writeLine } from './cli-context';
import {
  type PropagationWait,
  type RotationWait,
  waitForPropagation,
  waitForRotation,
} from './emergency-wait';
import { EXIT, type ExitCode } from './exit-codes';
import { createProgressLine } from './progress-line';
import { formatDuration } from './time-format';

export interface EmergencyOptions {
  readonly reason: string;
  readonly retirePrevious: boolean;
  readonly timeoutMs: number;
}

export interface EmergencyDeps {
  /** requestRotation from shared/requests, bound to its port, ledger and config. */
  readonly requestRotation: (input: unknown) => Promise<RotationRequestResult>;
  /** Run once the request is accepted, before the waits; only the local demo sets one. */
  readonly afterRequested?: AfterRequested;
  /** @default 2000 */
  readonly pollMs?: number;
}

/**
 * `rotator emergency <secret> --reason <text>`: refuses an unmanaged secret before any call,
 * resolves the caller (STS), requests an emergency rotation (repairing a stuck one), then shows
 * progress until AWSCURRENT is the new version and the ledger records its propagation.
 * Exit 0 when both succeeded, 1 when either failed or timed out.
 */
export async function runEmergency(
  ctx: CliContext,
  secretId: string,
  options: EmergencyOptions,
  deps: EmergencyDeps,
): Promise<ExitCode> {
  assertManaged(secretId, ctx.prefixes);
  const ledger = requireLedger(ctx);
  const started = performance.now();
  const actor = await ctx.services.callerArn();
  const result = await deps.requestRotation({
    secretId,
    reason: options.reason,
    actor,
    trigger: 'emergency',
    emergency: true,
    retirePrevious: options.retirePrevious,
  });
  const rotation: RequestedRotation = {
    ...result,
    actor,
    reason: options.reason,
    retirePrevious: options.retirePrevious,
  };
  writeLine(ctx.io.stderr, `rotation requested: ${rotation.secretName} version ${rotation.versionId}`);
  if (rotation.repairedPendingVersionId) {
    writeLine(ctx.io.stderr, `  removed the unfinished rotation ${rotation.repairedPendingVersionId} first`);
  }

  const signal = AbortSignal.timeout(options.timeoutMs);
  const progress = createProgressLine({ stream: ctx.io.stderr });
  const poll = {
    signal,
    pollMs: deps.pollMs ?? 2000,
    onProgress: (p: { stage: string; message: string }) => progress.update(`${p.stage}: ${p.message}`),
  };
  await deps.afterRequested?.(rotation, poll.onProgress, signal);
  const secrets = new SecretsManagerAdapter(ctx.services.secretsManager);
  const rotated = await waitForRotation(
    async () => (await secrets.describeSecret(rotation.secretArn)).versionIdsToStages,
    rotation.versionId,
    poll,
  );
  const rotatedAfter = performance.now() - started;
  const propagated =
    rotated.outcome === 'succeeded'
      ? await waitForPropagation(
          () => ledger.history(rotation.secretName, { limit: 20 }),
          rotation.versionId,
          poll,
        )
      : undefined;
  const succeeded = rotated.outcome === 'succeeded' && propagated?.outcome === 'succeeded';
  progress.done(succeeded ? 'done' : 'stopped');

  const summary = emergencySummary(rotation, rotated, rotatedAfter, propagated);
  if (ctx.options.json) writeLine(ctx.io.stdout, JSON.stringify(summary, null, 2));
  else writeLine(ctx.io.stdout, renderEmergencySummary(summary));
  return succeeded ? EXIT.ok : EXIT.failed;
}

export interface EmergencySummary {
  readonly secret: string;
  readonly newVersionId: string;
  readonly repairedPendingVersionId: string | null;
  readonly actor: string;
  readonly reason: string;
  readonly rotation: { readonly outcome: string; readonly detail: string | null; readonly afterMs: number };
  readonly propagation: {
    readonly outcome: string;
    readonly detail: string | null;
    readonly clusters: number | null;
    readonly restarted: number | null;
    readonly durationMs: number | null;
  };
  readonly outcome: 'succeeded' | 'failed';
}

/** The final report: names, versions, counts; never a value. */
export function emergencySummary(
  rotation: RequestedRotation,
  rotated: RotationWait,
  rotatedAfterMs: number,
  propagated: PropagationWait | undefined,
): EmergencySummary {
  const record: PropagationRecord | undefined = propagated?.record;
  return {
    secret: rotation.secretName,
    newVersionId: rotation.versionId,
    repairedPendingVersionId: rotation.repairedPendingVersionId ?? null,
    actor: rotation.actor,
    reason: rotation.reason,
    rotation: {
      outcome: rotated.outcome,
      detail: 'detail' in rotated ? rotated.detail : null,
      afterMs: rotatedAfterMs,
    },
    propagation: {
      outcome: propagated?.outcome ?? 'not started',
      detail: propagated && 'detail' in propagated ? propagated.detail : (record?.error ?? null),
      clusters: record?.clusters?.length ?? null,
      restarted: record?.clusters?.reduce((sum, c) => sum + c.restarted.length, 0) ?? null,
      durationMs: record?.durationMs ?? null,
    },
    outcome: rotated.outcome === 'succeeded' && propagated?.outcome === 'succeeded' ? 'succeeded' : 'failed',
  };
}

export function renderEmergencySummary(s: EmergencySummary): string {
  const lines = [
    `Emergency rotation of ${s.secret}`,
    `  new version:   ${s.newVersionId}`,
    ...(s.repairedPendingVersionId
      ? [`  repaired:      ${s.repairedPendingVersionId} (unfinished rotation removed)`]
      : []),
    `  actor:         ${s.actor}`,
    `  reason:        ${s.reason}`,
    `  rotation:      ${s.rotation.outcome} after ${formatDuration(s.rotation.afterMs)}${s.rotation.detail ? `: ${s.rotation.detail}` : ''}`,
    `  propagation:   ${s.propagation.outcome}${
      s.propagation.clusters === null
        ? ''
        : ` in ${formatDuration(s.propagation.durationMs ?? undefined)}: ${s.propagation.clusters} cluster(s), ${s.propagation.restarted} workload(s) restarted`
    }${s.propagation.detail ? `: ${s.propagation.detail}` : ''}`,
    `Outcome: ${s.outcome}`,
  ];
  return lines.join('\n');
}
