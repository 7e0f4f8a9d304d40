import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { managedPrefixSchema } from '../../shared/config';
import { FINAL_STATUSES } from '../../shared/notifications/execution-status-event';
import { NOTIFY_DEFAULTS, notifyEnvironment } from '../../shared/notifications/notify-config';
import { routeNameSchema } from '../../shared/notifications/routing';
import * as z from '../../shared/schema';
import { prefixOverlapProblems, prefixShapeProblem } from './managed-prefix-rules';
import { OrchestratorFunction } from './orchestrator-function';
import { DESCRIBE_REASON } from './propagation-steps';
import { allowOnManagedSecrets, managedSecretArnPattern } from './rotation-function-policy';
import { LEDGER_ACTIONS } from './rotation-ledger';

export interface RotationNotificationsProps {
  /** Secret-name prefixes this deployment manages: the secrets whose owner tag is read. */
  readonly managedPrefixes: readonly string[];
  /**
   * Where the routes live: one secret per owner, `<secretPrefix><owner>`, and the default route,
   * each `{"url": "https://…", "format": "slack"|"teams"}`. Must end with `/`, have two segments and
   * lie outside every managed prefix (the orchestrator must never rotate a webhook URL).
   */
  readonly secretPrefix: string;
  /** The route of a secret without a usable owner tag, or whose owner has none. @default 'default' */
  readonly defaultRoute?: string;
  /** The propagation workflow whose ended executions are announced. */
  readonly stateMachine: sfn.IStateMachine;
  /** The ledger: the execution's propagation record is read through its `history` index. */
  readonly ledger: { readonly tableName: string; readonly historyIndexArn: string };
  /** Customer-managed KMS keys of the route secrets (used only through Secrets Manager). @default none */
  readonly kmsKeyArns?: readonly string[];
  /** One webhook call (1–30 s). @default Duration.seconds(5) */
  readonly webhookTimeout?: Duration;
  /** Calls per notification, retries included (1–5). @default 3 */
  readonly webhookAttempts?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Webhook notifications of every ended propagation (Slack- and Teams-format JSON), beside the SNS
 * alert topic: a rule on the default bus for the workflow's "Step Functions Execution Status
 * Change" events (SUCCEEDED, FAILED, TIMED_OUT, ABORTED; this account and state machine) targets
 * the notify function, which may describe managed secrets (never read them), query the ledger's
 * history index, and read only the route secrets under `secretPrefix`. A failed notification is not
 * retried by Lambda (the function retries the webhook itself, and a 4xx is final): it goes to the
 * construct's dead-letter queue, as do events the rule could not deliver.
 *
 * @example
 * new RotationNotifications(this, 'Notifications', {
 *   managedPrefixes, secretPrefix: 'ops/rotator-notifications/',
 *   stateMachine: propagation.workflow.stateMachine, ledger,
 * });
 */
export class RotationNotifications extends Construct {
  readonly notifyFunction: OrchestratorFunction;
  readonly role: iam.Role;
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RotationNotificationsProps) {
    super(scope, id);
    const attempts = props.webhookAttempts ?? NOTIFY_DEFAULTS.webhookAttempts;
    const callTimeout = props.webhookTimeout ?? Duration.millis(NOTIFY_DEFAULTS.webhookTimeoutMs);
    this.notifyFunction = new OrchestratorFunction(this, 'Notify', {
      folder: 'notify',
      identity: {
        logGroup: 'Logs',
        role: 'Role',
        description:
          'Posts propagation notifications to webhooks (reads only the notification route secrets)',
      },
      logRetention: props.logRetention,
      // Every attempt at its timeout, the pauses between them, and the AWS calls before.
      timeout: Duration.seconds(attempts * callTimeout.toSeconds() + 30),
      description: 'Posts one webhook message per ended propagation, to the secret owner’s route',
      environment: notifyEnvironment({
        managedPrefixes: props.managedPrefixes,
        ledgerTableName: props.ledger.tableName,
        stateMachineArn: props.stateMachine.stateMachineArn,
        notificationsPrefix: props.secretPrefix,
        defaultRoute: props.defaultRoute,
        webhookTimeoutMs: callTimeout.toMilliseconds(),
        webhookAttempts: attempts,
      }),
    });
    this.role = this.notifyFunction.role;
    this.grant(props);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the notify rule and function.',
    });
    this.rule = new events.Rule(this, 'ExecutionEnded', {
      description: 'A propagation workflow execution ended: notify the secret owner’s webhook',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        account: [Stack.of(this).account],
        region: [Stack.of(this).region],
        detail: { status: [...FINAL_STATUSES], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.notifyFunction, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
      }),
    );
    // No Lambda retry: the function retries the webhook itself and a 4xx must not be sent again.
    this.notifyFunction.configureAsyncInvoke({
      retryAttempts: 0,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
  }

  private grant(props: RotationNotificationsProps): void {
    allowOnManagedSecrets(this, this.role, {
      sid: 'DescribeManagedSecrets',
      actions: ['secretsmanager:DescribeSecret'],
      prefixes: props.managedPrefixes,
      reason: DESCRIBE_REASON,
    });
    allowOnManagedSecrets(this, this.role, {
      sid: 'ReadNotificationRoutes',
      actions: ['secretsmanager:GetSecretValue'],
      prefixes: [props.secretPrefix],
      reason:
        'GetSecretValue on the notification route secrets only (one per owner, under the notifications prefix, outside every managed prefix); their ARNs end in a random suffix, so only secret:<prefix>* names them all.',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedgerHistory',
        actions: [...LEDGER_ACTIONS.readHistory],
        resources: [props.ledger.historyIndexArn],
      }),
    );
    if ((props.kmsKeyArns ?? []).length === 0) return;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptRoutesThroughSecretsManager',
        actions: ['kms:Decrypt'],
        resources: [...(props.kmsKeyArns ?? [])],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          StringLike: {
            'kms:EncryptionContext:SecretARN': managedSecretArnPattern(this, props.secretPrefix),
          },
        },
      }),
    );
  }
}

/** cdk.json's `notifications` section (context key `orchestrator`). */
export const notificationsConfigSchema = z.strictObject({
  /** Prefix of the route secrets, e.g. `ops/rotator-notifications/`. */
  secretPrefix: managedPrefixSchema.check(
    z.superRefine((prefix, ctx) => {
      if (!managedPrefixSchema.safeParse(prefix).success) return; // reported above
      const problem = prefixShapeProblem(prefix);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: prefix });
    }),
  ),
  defaultRoute: z.optional(routeNameSchema),
  kmsKeyArns: z._default(
    z.array(
      z
        .string()
        .check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN')),
    ),
    [],
  ),
});
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;

/**
 * What is wrong with `notifications` beside the rest of the configuration: it needs `propagation`
 * (it announces the workflow's executions), and its prefix must lie outside every managed prefix.
 */
export function notificationsProblems(config: {
  readonly managedPrefixes: readonly string[];
  readonly propagation?: unknown;
  readonly notifications?: NotificationsConfig;
}): { path: (string | number)[]; message: string }[] {
  if (!config.notifications) return [];
  const problems: { path: (string | number)[]; message: string }[] = [];
  if (config.propagation === undefined) {
    problems.push({ path: ['notifications'], message: 'announces propagations, so it needs propagation' });
  }
  const prefix = config.notifications.secretPrefix;
  const own = config.managedPrefixes.length;
  for (const { index, message } of prefixOverlapProblems([...config.managedPrefixes, prefix])) {
    if (index !== own) continue;
    problems.push({
      path: ['notifications', 'secretPrefix'],
      message: `must lie outside the managed prefixes (a route secret would be rotated): ${message}`,
    });
  }
  return problems;
}
