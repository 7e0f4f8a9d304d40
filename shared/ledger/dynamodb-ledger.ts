import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LedgerPort } from './ledger-port';
import { queryHistory, readSummaries } from './ledger-reads';
import type { LedgerTable } from './ledger-table';
import { claimPropagation, finishPropagation, noteWindowWait } from './propagation-claims';
import { findRotation, recordRotation, registerMove } from './rotation-records';

/**
 * {@link LedgerPort} over one DynamoDB table (layout in ledger-items.ts). The client is the caller's.
 * The calls live by concern: rotation-records.ts (rotations, AWSCURRENT moves),
 * propagation-claims.ts (the claim, its lease and outcome), ledger-reads.ts (history, summaries).
 *
 * Each decision is one conditional write on one item; the SUMMARY item is a copy written after it,
 * only ever replaced by something newer (`last…Order`, epoch ms, only grows). A crash between the
 * two leaves the summary one step behind until the next write for that secret: the holder's retry
 * (same executionId) or the next rotation rewrites it. Never read the summary to decide anything.
 *
 * @example
 * const ledger = new DynamoDbLedger(new DynamoDBClient({}), config.ledgerTableName);
 * const claim = await ledger.claimPropagation(claimOf(rotation), { leaseMs: 15 * 60_000, now: new Date() });
 * if (!claim.claimed) return { skipped: true, holder: claim.existing.executionId };
 */
export class DynamoDbLedger implements LedgerPort {
  private readonly table: LedgerTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = { client, tableName };
  }

  recordRotation: LedgerPort['recordRotation'] = (record) => recordRotation(this.table, record);

  findRotation: LedgerPort['findRotation'] = (secretName, versionId) =>
    findRotation(this.table, secretName, versionId);

  registerMove: LedgerPort['registerMove'] = (secretName, move) => registerMove(this.table, secretName, move);

  claimPropagation: LedgerPort['claimPropagation'] = (claim, options) =>
    claimPropagation(this.table, claim, options);

  finishPropagation: LedgerPort['finishPropagation'] = (secretName, key, executionId, result, options) =>
    finishPropagation(this.table, secretName, key, executionId, result, options);

  noteWindowWait: LedgerPort['noteWindowWait'] = (secretName, key, executionId, wait) =>
    noteWindowWait(this.table, secretName, key, executionId, wait);

  history: LedgerPort['history'] = (secretName, options) => queryHistory(this.table, secretName, options);

  summaries: LedgerPort['summaries'] = (secretNames) => readSummaries(this.table, secretNames);
}
