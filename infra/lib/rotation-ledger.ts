import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LEDGER_TABLE } from '../../shared/ledger/ledger-items';

export interface RotationLedgerProps {
  /** Physical table name. @default a name CloudFormation generates */
  readonly tableName?: string;
  /** Refuse DeleteTable (also from CloudFormation) until it is turned off. @default true */
  readonly deletionProtection?: boolean;
  /** What happens to the table when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The DynamoDB actions each group of ledger methods (shared/ledger/dynamodb-ledger.ts) makes. */
export const LEDGER_ACTIONS = {
  /** recordRotation: conditional PutItem of the record, UpdateItem of the summary. */
  recordRotation: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /**
   * The propagation step: registerMove (a consistent GetItem of the summary, then a conditional
   * UpdateItem of it and one of the version's rotation record), claimPropagation (conditional
   * PutItem, summary UpdateItem), noteWindowWait and finishPropagation (UpdateItem). No Query, no
   * BatchGetItem, no Scan, no DeleteItem.
   */
  propagation: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** findRotation (GetItem), summaries (BatchGetItem). */
  readItems: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  /** history: Query on the history index only, never on the table. */
  readHistory: ['dynamodb:Query'],
} as const;

/**
 * The rotation ledger: one DynamoDB table with the layout of shared/ledger/ledger-items.ts (`pk`,
 * `sk`, and the `history` local secondary index on `historyAt`), on demand, with point-in-time
 * recovery, deletion protection and RETAIN by default: it is the audit trail and the
 * exactly-once lock of propagations, so losing it must take deliberate steps.
 *
 * Encryption uses the AWS-managed key (`aws/dynamodb`): the table holds names, version ids, ARNs,
 * actors and outcomes, never a secret value (the port has no value fields), so a customer-managed
 * key would add a key policy and KMS grants on every function for no secret it protects. Key use
 * is still logged in CloudTrail.
 *
 * Grants are per use, each only the actions its ledger methods make, on this table (and its
 * history index for Query); no Scan, DeleteItem or table administration.
 *
 * The constructs that use it take the ledger itself (e.g. `RotationRequests`' `ledger`) and both
 * grant what they need and give their function `tableName`, so the two cannot disagree.
 *
 * @example
 * const ledger = new RotationLedger(this, 'Ledger');
 * new RotationRequests(this, 'Requests', { managedPrefixes, rotationFunction, ledger });
 */
export class RotationLedger extends Construct {
  readonly table: dynamodb.Table;
  readonly tableName: string;
  readonly tableArn: string;
  /** ARN of the `history` index that history() queries. */
  readonly historyIndexArn: string;

  constructor(scope: Construct, id: string, props: RotationLedgerProps = {}) {
    super(scope, id);
    const { partitionKey, sortKey, historyIndex, historySortKey } = LEDGER_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addLocalSecondaryIndex({
      indexName: historyIndex,
      sortKey: { name: historySortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.tableName = this.table.tableName;
    this.tableArn = this.table.tableArn;
    this.historyIndexArn = `${this.table.tableArn}/index/${historyIndex}`;
  }

  /** recordRotation. */
  grantRecordRotation(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, LEDGER_ACTIONS.recordRotation);
  }

  /** registerMove, claimPropagation, noteWindowWait and finishPropagation. */
  grantPropagation(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, LEDGER_ACTIONS.propagation);
  }

  /** findRotation, history and summaries. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, LEDGER_ACTIONS.readItems).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: [...LEDGER_ACTIONS.readHistory],
        resourceArns: [this.historyIndexArn],
      }),
    );
  }

  private grantOnTable(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.tableArn] });
  }
}
