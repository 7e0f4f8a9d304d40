import type { LedgerPort, RotationRecord, SecretLedgerSummary } from '../../shared/ledger/ledger-port';

/**
 * A small in-memory stand-in for the ledger where the ledger is not the subject: it keeps rotation
 * records and summaries, and logs each call to `calls` (shared with other recorders, so a test can
 * assert the order of ledger writes and AWS calls).
 */
export class InMemoryLedger implements Pick<LedgerPort, 'recordRotation' | 'findRotation' | 'summaries'> {
  readonly rotations: RotationRecord[] = [];
  readonly summaryCalls: string[][] = [];

  constructor(
    readonly calls: string[] = [],
    private readonly stored = new Map<string, SecretLedgerSummary>(),
  ) {}

  async recordRotation(record: RotationRecord): Promise<void> {
    this.calls.push('ledger.recordRotation');
    this.rotations.push(record);
  }

  async findRotation(secretName: string, versionId: string): Promise<RotationRecord | undefined> {
    return this.rotations.find((r) => r.secretName === secretName && r.versionId === versionId);
  }

  async summaries(secretNames: readonly string[]): Promise<Map<string, SecretLedgerSummary>> {
    this.calls.push('ledger.summaries');
    this.summaryCalls.push([...secretNames]);
    return new Map(secretNames.flatMap((name) => this.stored.get(name) ?? []).map((s) => [s.secretName, s]));
  }
}
