import type { EKSClient } from '@aws-sdk/client-eks';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../shared/errors';
import type { LedgerPort } from '../shared/ledger/ledger-port';
import { loadSweepConfig } from '../shared/sweep/sweep-config';
import { withoutControls } from './terminal-text';

/** The options every command accepts (commander's parsed program options). */
export interface GlobalOptions {
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly ledgerTable?: string;
  readonly prefix: readonly string[];
  readonly json: boolean;
  readonly verbose: boolean;
}

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** stdout for results (tables, JSON, summaries), stderr for notes, progress and errors. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
}

/** The AWS side of the CLI, built once per run from the global options. */
export interface CliServices {
  readonly secretsManager: SecretsManagerClient;
  readonly eks: EKSClient;
  /** Undefined when no ledger table is configured. */
  readonly ledger: LedgerPort | undefined;
  /** The caller's IAM ARN (STS GetCallerIdentity). */
  callerArn(): Promise<string>;
}

/** What a command runs with: validated settings, services, output. */
export interface CliContext {
  readonly options: GlobalOptions;
  readonly prefixes: readonly string[];
  /** The sweep's own thresholds (ROTATOR_SWEEP_GRACE_HOURS, ROTATOR_STUCK_AFTER_MINUTES). */
  readonly graceMs: number;
  readonly stuckAfterMs: number;
  readonly services: CliServices;
  readonly io: CliIo;
  readonly now: () => Date;
}

/**
 * Validates the global options once (prefixes as the deployment validates them, the sweep's
 * thresholds from the environment) and fails fast with a {@link ConfigError}.
 */
export function createCliContext(input: {
  readonly options: GlobalOptions;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly services: (options: GlobalOptions) => CliServices;
  readonly io: CliIo;
  readonly now?: () => Date;
}): CliContext {
  const prefixes = input.options.prefix.filter((p) => p.length > 0);
  if (prefixes.length === 0) {
    throw new ConfigError(
      'no managed prefixes: pass --prefix <prefix> (repeatable) or set ROTATOR_MANAGED_PREFIXES',
    );
  }
  const sweep = loadSweepConfig({ ...input.env, ROTATOR_MANAGED_PREFIXES: prefixes.join(',') });
  return {
    options: input.options,
    prefixes: sweep.managedPrefixes,
    graceMs: sweep.graceMs,
    stuckAfterMs: sweep.stuckAfterMs,
    services: input.services(input.options),
    io: input.io,
    now: input.now ?? (() => new Date()),
  };
}

/** The ledger, or a {@link ConfigError} naming the option that configures it. */
export function requireLedger(ctx: CliContext): LedgerPort {
  if (!ctx.services.ledger) {
    throw new ConfigError('no ledger table: pass --ledger-table <name> or set ROTATOR_LEDGER_TABLE');
  }
  return ctx.services.ledger;
}

/**
 * Writes one line (or several) to a stream, without control characters: reasons, actors and
 * names come from events and clusters, and an ESC or BEL in them must not drive the terminal.
 */
export function writeLine(stream: OutputStream, text = ''): void {
  stream.write(`${withoutControls(text)}\n`);
}

/** The terminal's width on a TTY; unlimited when piped, so nothing is cut in logs. */
export function tableWidth(ctx: CliContext): number | undefined {
  return ctx.io.stdout.isTTY ? (ctx.io.stdout.columns ?? 120) : undefined;
}
