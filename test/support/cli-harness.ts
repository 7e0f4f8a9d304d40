import type { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CliIo, CliServices } from '../../cli/cli-context';
import type {
  ClaimResult,
  LedgerEntry,
  LedgerPort,
  PropagationRecord,
  RotationRecord,
  SecretLedgerSummary,
} from '../../shared/ledger/ledger-port';

/** stdout and stderr captured as text; neither is a TTY unless asked. */
export function captureIo(options: { tty?: boolean; columns?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s), isTTY: options.tty, columns: options.columns },
    stderr: { write: (s: string) => err.push(s), isTTY: options.tty },
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

/**
 * A Secrets Manager client whose `send` answers from `respond` by command name and records every
 * call, so a test can prove which calls were (not) made.
 */
export function fakeSecretsManager(respond: (name: string, input: Record<string, unknown>) => unknown) {
  const calls: string[] = [];
  // A SecretsManagerClient by prototype, because the SDK's paginators check `instanceof`.
  const client = Object.assign(Object.create(SecretsManagerClient.prototype) as SecretsManagerClient, {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      return respond(name, command.input);
    },
  });
  return { client, calls };
}

/** An in-memory ledger: entries per secret (newest first on read), summaries derived from them. */
export class FakeLedger implements LedgerPort {
  readonly entries: LedgerEntry[] = [];
  readonly calls: string[] = [];

  async recordRotation(record: RotationRecord): Promise<void> {
    this.calls.push('recordRotation');
    this.entries.push({ kind: 'rotation', ...record });
  }
  async findRotation(secretName: string, versionId: string) {
    return this.rotations(secretName).find((r) => r.versionId === versionId);
  }
  async claimPropagation(): Promise<ClaimResult> {
    throw new Error('not used by the CLI');
  }
  async finishPropagation(): Promise<never> {
    throw new Error('not used by the CLI');
  }
  async registerMove(): Promise<never> {
    throw new Error('not used by the CLI');
  }
  async noteWindowWait(): Promise<void> {
    throw new Error('not used by the CLI');
  }
  async history(secretName: string, options: { limit?: number } = {}): Promise<LedgerEntry[]> {
    this.calls.push('history');
    const mine = this.entries
      .filter((e) => e.secretName === secretName)
      .sort((a, b) => (timeOf(b) > timeOf(a) ? 1 : -1));
    return mine.slice(0, options.limit ?? mine.length);
  }
  async summaries(secretNames: readonly string[]): Promise<Map<string, SecretLedgerSummary>> {
    this.calls.push('summaries');
    const result = new Map<string, SecretLedgerSummary>();
    for (const name of secretNames) {
      const entries = await this.historyQuiet(name);
      if (entries.length === 0) continue;
      result.set(name, {
        secretName: name,
        lastRotation: entries.find((e): e is RotationEntry => e.kind === 'rotation'),
        lastPropagation: entries.find((e): e is PropagationEntry => e.kind === 'propagation'),
      });
    }
    return result;
  }
  /** Adds or replaces the propagation record of a version. */
  putPropagation(record: PropagationRecord): void {
    const index = this.entries.findIndex(
      (e) =>
        e.kind === 'propagation' && e.secretName === record.secretName && e.versionId === record.versionId,
    );
    if (index >= 0) this.entries.splice(index, 1);
    this.entries.push({ kind: 'propagation', ...record });
  }
  private rotations(secretName: string): RotationRecord[] {
    return this.entries.filter(
      (e): e is RotationEntry => e.kind === 'rotation' && e.secretName === secretName,
    );
  }
  private async historyQuiet(name: string) {
    return this.entries.filter((e) => e.secretName === name).sort((a, b) => (timeOf(b) > timeOf(a) ? 1 : -1));
  }
}

type RotationEntry = Extract<LedgerEntry, { kind: 'rotation' }>;
type PropagationEntry = Extract<LedgerEntry, { kind: 'propagation' }>;
const timeOf = (e: LedgerEntry) => (e.kind === 'rotation' ? e.requestedAt : e.startedAt);

/** Services for runCli made of fakes; `callerArn` as STS would answer for a user `alice`. */
export function fakeServices(parts: { secretsManager: SecretsManagerClient; ledger?: LedgerPort }) {
  const stsCalls: string[] = [];
  const services: CliServices = {
    secretsManager: parts.secretsManager,
    eks: {} as EKSClient,
    ledger: parts.ledger,
    async callerArn() {
      stsCalls.push('GetCallerIdentity');
      return 'arn:aws:iam::123456789012:user/alice';
    },
  };
  return { services: () => services, stsCalls };
}
