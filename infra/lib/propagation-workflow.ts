import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface PropagationWorkflowProps {
  /** The function that runs every step (functions/propagation-step). */
  readonly stepFunction: lambda.IFunction;
  /** Failures are published here. */
  readonly alertTopic: sns.ITopic;
  /** Between polls of ESO's sync status. @default Duration.seconds(5) */
  readonly syncPollInterval?: Duration;
  /** Between polls of one restarted workload's rollout. @default Duration.seconds(10) */
  readonly rolloutPollInterval?: Duration;
  /** The whole execution, all clusters and waves. @default Duration.hours(6) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/** Error names the step function raises that are worth another attempt, plus Lambda's own. */
export const RETRYABLE_ERRORS = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * The propagation workflow: a Step Functions standard state machine that carries one secret version
 * through every configured cluster. Claim (exactly once, in the ledger) → per cluster, in parallel:
 * plan → resync → confirm (Wait + poll until a deadline) → restarts (Map, at most `maxConcurrency`
 * in flight; each restart is watched until its rollout is done, and a failed rollout stops the
 * restarts not yet begun) → cluster outcome; then record, optionally retire the previous version.
 * Any error is caught, recorded, and published to the alert topic.
 */
export class PropagationWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PropagationWorkflowProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(propagationDefinition(this, props)),
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      comment: 'Carries one rotated secret version through every configured EKS cluster',
      // Every state transition is logged (an audit trail per execution); execution data holds
      // names and versions only, but the log need not hold it at all.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.acknowledgeWildcards(props);
  }

  private acknowledgeWildcards(props: PropagationWorkflowProps): void {
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.stepFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on the step function and its versions (CDK grants <arn>:* so a qualified invoke also works); no other function.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments and friends) and CloudWatch Logs delivery (logs:CreateLogDelivery and friends) take no resource-level scoping; Step Functions documents "*" for both.',
    });
  }
}

/** The states, in a scope of their own so tests can render them without a stack around them. */
export function propagationDefinition(scope: Construct, props: PropagationWorkflowProps): sfn.IChainable {
  const step = (
    name: string,
    action: string,
    payload: Record<string, unknown>,
    resultPath: string | undefined,
  ) => {
    const task = new tasks.LambdaInvoke(scope, name, {
      lambdaFunction: props.stepFunction,
      payload: sfn.TaskInput.fromObject({ action, ...payload }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath,
    });
    task.addRetry({
      errors: RETRYABLE_ERRORS,
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(1),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  };
  const at = sfn.JsonPath.stringAt;
  const obj = sfn.JsonPath.objectAt;
  const whole = sfn.JsonPath.entirePayload;

  // The end: alert on failure, otherwise optionally retire the previous version.
  const failed = new sfn.Fail(scope, 'PropagationFailed', {
    error: 'PropagationFailed',
    cause: 'See the ledger entry and the alert for this secret version',
  });
  const alert = new tasks.SnsPublish(scope, 'Alert', {
    topic: props.alertTopic,
    subject: at('$.record.alert.subject'),
    message: sfn.TaskInput.fromJsonPathAt('$.record.alert.message'),
    resultPath: sfn.JsonPath.DISCARD,
  });
  alert.addRetry({
    errors: ['States.TaskFailed'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });
  alert.next(failed);
  const recordFailure = step('RecordFailure', 'record-failure', { state: whole }, '$.record').next(alert);
  const catchAll = (state: sfn.TaskStateBase | sfn.Map) =>
    state.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

  const done = new sfn.Succeed(scope, 'Propagated');
  const retire = step('RetirePrevious', 'retire-previous', { claim: obj('$.claim') }, '$.retired');
  // The propagation is recorded as succeeded; a failed retirement alerts without rewriting it.
  const retireFailed = new sfn.Pass(scope, 'RetireFailed', {
    parameters: {
      subject: 'Retiring the previous secret version failed',
      'message.$':
        "States.Format('{} (new version {}): {}', $.claim.secret.name, $.claim.versionId, $.error.Error)",
    },
    resultPath: '$.record.alert',
  });
  retireFailed.next(alert);
  retire.addCatch(retireFailed, { errors: ['States.ALL'], resultPath: '$.error' });
  retire.next(done);
  const afterRecord = new sfn.Choice(scope, 'Outcome?')
    .when(sfn.Condition.stringEquals('$.record.outcome', 'failed'), alert)
    .when(sfn.Condition.booleanEquals('$.claim.retirePrevious', true), retire)
    .otherwise(done);
  const record = step('Record', 'record', { claim: obj('$.claim'), clusters: obj('$.clusters') }, '$.record');
  catchAll(record);
  record.next(afterRecord);

  const clusters = new sfn.Map(scope, 'Clusters', {
    itemsPath: '$.claim.clusters',
    itemSelector: {
      cluster: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      secret: obj('$.claim.secret'),
      versionId: at('$.claim.versionId'),
      maxConcurrency: sfn.JsonPath.numberAt('$.claim.maxConcurrency'),
    },
    resultPath: '$.clusters',
  });
  clusters.itemProcessor(clusterIteration(scope, props, step));
  catchAll(clusters);
  clusters.next(record);

  const claim = step('Claim', 'claim', { input: whole, executionId: sfn.JsonPath.executionName }, '$.claim');
  catchAll(claim);
  return claim.next(
    new sfn.Choice(scope, 'Claimed?')
      .when(sfn.Condition.booleanEquals('$.claim.claimed', false), new sfn.Succeed(scope, 'AlreadyClaimed'))
      .otherwise(clusters),
  );
}

type StepFactory = (
  name: string,
  action: string,
  payload: Record<string, unknown>,
  resultPath: string | undefined,
) => tasks.LambdaInvoke;

/** One cluster: plan, resync, confirm, restarts, outcome. Errors end in the outcome, not the Map. */
function clusterIteration(
  scope: Construct,
  props: PropagationWorkflowProps,
  step: StepFactory,
): sfn.IChainable {
  const at = sfn.JsonPath.stringAt;
  const obj = sfn.JsonPath.objectAt;
  const finish = step('FinishCluster', 'finish-cluster', { state: sfn.JsonPath.entirePayload }, undefined);
  // Even the outcome step failing must not abort the other clusters: report this one as failed.
  finish.addCatch(
    new sfn.Pass(scope, 'FinishClusterFailed', {
      parameters: {
        'cluster.$': '$.cluster',
        outcome: 'failed',
        synced: [],
        restarted: [],
        'failed.$': "States.Array(States.Format('the outcome step failed: {}', $.error.Error))",
      },
    }),
    { errors: ['States.ALL'], resultPath: '$.error' },
  );
  const toFinish = (state: sfn.TaskStateBase | sfn.Map) =>
    state.addCatch(finish, { errors: ['States.ALL'], resultPath: '$.error' });

  const restarts = new sfn.Map(scope, 'Restarts', {
    itemsPath: '$.sync.restarts',
    maxConcurrencyPath: '$.maxConcurrency',
    itemSelector: {
      cluster: at('$.cluster'),
      workload: obj('$$.Map.Item.Value'),
      secretName: at('$.secret.name'),
      versionId: at('$.versionId'),
      restartedAt: at('$.plan.plannedAt'),
    },
    resultPath: '$.restarts',
  });
  restarts.itemProcessor(restartIteration(scope, props, step));
  toFinish(restarts);
  restarts.next(finish);

  const plan = step(
    'Plan',
    'plan',
    { cluster: at('$.cluster'), secret: obj('$.secret'), versionId: at('$.versionId') },
    '$.plan',
  );
  const resync = step(
    'Resync',
    'resync',
    { cluster: at('$.cluster'), versionId: at('$.versionId'), plan: obj('$.plan') },
    '$.sync',
  );
  const checkSync = step(
    'CheckSync',
    'check-sync',
    { cluster: at('$.cluster'), plan: obj('$.plan'), sync: obj('$.sync') },
    '$.sync',
  );
  for (const state of [plan, resync, checkSync]) toFinish(state);
  const waitForSync = new sfn.Wait(scope, 'WaitForSync', {
    time: sfn.WaitTime.duration(props.syncPollInterval ?? Duration.seconds(5)),
  });
  const synced = new sfn.Choice(scope, 'Synced?')
    .when(sfn.Condition.booleanEquals('$.sync.done', true), restarts)
    .otherwise(waitForSync);
  waitForSync.next(checkSync);
  checkSync.next(synced);
  return plan.next(resync).next(synced);
}

/** One workload: restart, then poll its rollout; a failure (RolloutFailedError) fails the Map. */
function restartIteration(
  scope: Construct,
  props: PropagationWorkflowProps,
  step: StepFactory,
): sfn.IChainable {
  const at = sfn.JsonPath.stringAt;
  const item = {
    cluster: at('$.cluster'),
    workload: sfn.JsonPath.objectAt('$.workload'),
    secretName: at('$.secretName'),
    versionId: at('$.versionId'),
    restartedAt: at('$.restartedAt'),
  };
  const restart = step('Restart', 'restart', item, '$.restart');
  const checkRollout = step(
    'CheckRollout',
    'check-rollout',
    { ...item, restart: sfn.JsonPath.objectAt('$.restart') },
    '$.rollout',
  );
  const wait = new sfn.Wait(scope, 'WaitForRollout', {
    time: sfn.WaitTime.duration(props.rolloutPollInterval ?? Duration.seconds(10)),
  });
  const rolledOut = new sfn.Choice(scope, 'RolledOut?')
    .when(
      sfn.Condition.stringEquals('$.rollout.state', 'done'),
      new sfn.Succeed(scope, 'Restarted', {
        // Each iteration's output joins the state (256 KiB at most): keep it to one word.
        outputPath: '$.rollout.state',
      }),
    )
    .otherwise(wait);
  wait.next(checkRollout);
  checkRollout.next(rolledOut);
  // check-rollout watches for a while itself; the Wait is only for rollouts slower than that.
  return restart.next(checkRollout);
}
