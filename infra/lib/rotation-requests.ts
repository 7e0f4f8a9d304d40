import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { requestEnvironment } from '../../shared/requests/request-config';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { OrchestratorFunction } from './orchestrator-function';
import {
  allowOnManagedSecrets,
  onlyStage,
  rotateWithOwnFunction,
  rotationFunctionArnsOf,
} from './rotation-function-policy';
import { RotationRequestBus } from './rotation-request-bus';

/**
 * The Secrets Manager actions a rotation request makes on a managed secret unconditionally; it
 * also calls RotateSecret (only with the secret's stored function, this project's) and
 * UpdateSecretVersionStage (only for AWSPENDING).
 */
export const ROTATION_REQUEST_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:ListSecretVersionIds',
] as const;

export interface RotationRequestsProps {
  readonly managedPrefixes: readonly string[];
  /** The rotation function the managed secrets use; RotateSecret needs permission to invoke it. */
  readonly rotationFunction: lambda.IFunction;
  /** The database rotation function, when deployed: the secrets it rotates are managed too. @default none */
  readonly databaseRotationFunction?: lambda.IFunction;
  /**
   * The rotation ledger (e.g. a `RotationLedger`): every request is recorded there before
   * RotateSecret, and an emergency reads the secret's history for its cooldown. The function is
   * granted both and given the table's name from this one object.
   */
  readonly ledger: {
    readonly tableName: string;
    grantRecordRotation(grantee: iam.IGrantable): void;
    grantRead(grantee: iam.IGrantable): void;
  };
  /**
   * IAM principals (role or user ARNs) allowed to call the function URL, the emergency entry for
   * automation. They may also put requests on the request bus. @default [] — no function URL at all
   */
  readonly emergencyPrincipals?: readonly string[];
  /**
   * IAM principals (role or user ARNs, exactly as `aws:PrincipalArn` reads them) that may put the
   * `Secret Rotation Requested` event on this stack's request bus, besides the emergency principals.
   * Every other principal, in this account or another, is denied by the bus policy.
   * @default [] — only the emergency principals; with none either, nobody
   */
  readonly requestPrincipals?: readonly string[];
  /** Name of the request bus. @default a unique name generated from the construct path */
  readonly eventBusName?: string;
  /** An unfinished rotation younger than this is refused (409), older is repaired; in minutes (5–10,080). @default 60 */
  readonly stuckAfterMinutes?: number;
  /**
   * Per-secret emergency cooldown: an emergency request less than this long after the secret's last
   * emergency request is refused (429 at the URL; the event fails to the dead-letter queue) and
   * changes nothing. Whole minutes, at most a day; `Duration.minutes(0)` disables it.
   * @default Duration.minutes(15)
   */
  readonly emergencyCooldown?: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency of the request function: at most this many requests run at once, so a
   * flood of requests cannot take the account's Lambda concurrency or Secrets Manager's write quota.
   * Reserving needs 100 unreserved executions left in the account's limit. @default 5
   */
  readonly reservedConcurrency?: number;
  /** Reserved concurrency of the emergency (function URL) function. @default 2 */
  readonly emergencyReservedConcurrency?: number;
}

/**
 * Rotation on request, by two functions that rotate a named managed secret now:
 *  - the request function, reached only by the custom EventBridge event `Secret Rotation
 *    Requested` from `secret-rotation-orchestrator` on this construct's own event bus, which only
 *    the request and emergency principals may put events on (rule filtered to this account,
 *    region and the managed prefixes; retries, then a dead-letter queue). Never an emergency;
 *  - the emergency function, behind an `AWS_IAM` function URL that only `emergencyPrincipals` may
 *    call (none: no URL and no function), the one entry that honours emergency and retire-previous.
 * Each has its own role, which may describe, rotate, remove AWSPENDING from and list versions of
 * managed secrets only, invoke the rotation function (RotateSecret requires it) and record
 * rotations in the ledger; neither can read or write any value.
 */
export class RotationRequests extends Construct {
  readonly requestFunction: OrchestratorFunction;
  readonly role: iam.Role;
  /** The function behind the emergency URL; undefined when no principal is allowed to call it. */
  readonly emergencyFunction: OrchestratorFunction | undefined;
  /** The bus the request rule listens on; send requests here (`EventBusName`), not to the default bus. */
  readonly eventBus: events.EventBus;
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  /** The emergency entry; undefined when no principal is allowed to call it. */
  readonly functionUrl: lambda.FunctionUrl | undefined;

  constructor(scope: Construct, id: string, props: RotationRequestsProps) {
    super(scope, id);
    const environment = requestEnvironment({
      managedPrefixes: props.managedPrefixes,
      ledgerTableName: props.ledger.tableName,
      stuckAfterMs: props.stuckAfterMinutes === undefined ? undefined : props.stuckAfterMinutes * 60_000,
      emergencyCooldownMs: props.emergencyCooldown?.toMilliseconds(),
    });
    this.requestFunction = new OrchestratorFunction(this, 'RotationRequest', {
      folder: 'rotation-request',
      identity: {
        logGroup: 'Logs',
        role: 'Role',
        description:
          'Rotation-request function of the secret rotation orchestrator (rotate; no secret values)',
      },
      logRetention: props.logRetention,
      memorySize: 256,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 5,
      description:
        'Rotates a managed secret on request (the request bus’s EventBridge event; never an emergency)',
      environment,
    });
    this.role = this.requestFunction.role;
    this.grantRequestActions(this.role, props);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the rule’s target and of failed requests.',
    });
    // A request that fails after Lambda's retries (EventBridge invokes asynchronously) is kept.
    this.requestFunction.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.eventBus = new RotationRequestBus(this, 'Bus', {
      principals: [...(props.requestPrincipals ?? []), ...(props.emergencyPrincipals ?? [])],
      eventBusName: props.eventBusName,
    }).bus;
    this.rule = new events.Rule(this, 'Requested', {
      description: 'A rotation of a managed secret was requested',
      eventBus: this.eventBus,
      eventPattern: rotationRequestedPattern(this, props.managedPrefixes),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.requestFunction, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
      }),
    );
    const emergencyPrincipals = props.emergencyPrincipals ?? [];
    this.emergencyFunction =
      emergencyPrincipals.length === 0
        ? undefined
        : new OrchestratorFunction(this, 'EmergencyRequest', {
            folder: 'emergency-request',
            identity: {
              logGroup: 'EmergencyLogs',
              role: 'EmergencyRole',
              description:
                'Emergency-request function of the secret rotation orchestrator (rotate now; no secret values)',
            },
            logRetention: props.logRetention,
            memorySize: 256,
            timeout: Duration.seconds(30),
            reservedConcurrentExecutions: props.emergencyReservedConcurrency ?? 2,
            description:
              'Rotates a managed secret now for an IAM-authorized function URL caller (an emergency)',
            environment,
          });
    if (this.emergencyFunction) this.grantRequestActions(this.emergencyFunction.role, props);
    this.functionUrl = this.emergencyUrl(emergencyPrincipals);
  }

  /** What each request function may do: its secret actions and the ledger (records, and history for the cooldown). */
  private grantRequestActions(role: iam.Role, props: RotationRequestsProps): void {
    this.grantSecretActions(role, props);
    props.ledger.grantRecordRotation(role);
    props.ledger.grantRead(role); // history, for the emergency cooldown
  }

  private grantSecretActions(role: iam.Role, props: RotationRequestsProps): void {
    allowOnManagedSecrets(this, role, {
      sid: 'RequestRotationOfManagedSecrets',
      actions: ROTATION_REQUEST_ACTIONS,
      prefixes: props.managedPrefixes,
      reason:
        'Describe and list versions of the secrets under a managed prefix; secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    // A request rotates with the secret's stored configuration, and only a secret this project's
    // function rotates: it can neither set another function nor change the schedule.
    allowOnManagedSecrets(this, role, {
      sid: 'RotateWithThisFunction',
      actions: ['secretsmanager:RotateSecret'],
      prefixes: props.managedPrefixes,
      conditions: rotateWithOwnFunction(rotationFunctionArnsOf(props)),
      reason:
        'RotateSecret on the secrets under a managed prefix whose rotation function is this project’s (conditions); secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    // Repairing a stuck rotation only removes its AWSPENDING label: never AWSCURRENT (which would
    // roll a secret back to an older, possibly leaked version) nor AWSPREVIOUS.
    allowOnManagedSecrets(this, role, {
      sid: 'RemoveStuckPendingLabels',
      actions: ['secretsmanager:UpdateSecretVersionStage'],
      prefixes: props.managedPrefixes,
      conditions: onlyStage('AWSPENDING'),
      reason:
        'UpdateSecretVersionStage, only for AWSPENDING (a condition), on the secrets under a managed prefix: repairing a stuck rotation. Secret ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeRotationFunction',
        actions: ['lambda:InvokeFunction'],
        resources: rotationFunctionArnsOf(props),
      }),
    );
  }

  /** An AWS_IAM function URL whose resource policy names exactly the given principals. */
  private emergencyUrl(principals: readonly string[]): lambda.FunctionUrl | undefined {
    const fn = this.emergencyFunction;
    if (!fn || principals.length === 0) return undefined;
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    for (const principal of new Set(principals)) {
      // lambda:InvokeFunctionUrl (AuthType AWS_IAM) plus lambda:InvokeFunction only via the URL.
      fn.grantInvokeUrl(new iam.ArnPrincipal(principal));
    }
    return url;
  }
}

/**
 * The custom event's pattern: put in this stack's account and region (an event forwarded from
 * another account's or region's bus keeps its origin), and `detail.secretId` must start with a
 * managed prefix, given as a name or as this account's and region's secret ARN. The function
 * checks the prefixes again.
 */
export function rotationRequestedPattern(scope: Construct, prefixes: readonly string[]): events.EventPattern {
  const stack = Stack.of(scope);
  const arnOf = (prefix: string) =>
    `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${prefix}`;
  return {
    account: [stack.account],
    region: [stack.region],
    source: [ROTATION_REQUEST_SOURCE],
    detailType: [ROTATION_REQUEST_DETAIL_TYPE],
    detail: {
      secretId: [...prefixes.map((prefix) => ({ prefix })), ...prefixes.map((p) => ({ prefix: arnOf(p) }))],
    },
  };
}
