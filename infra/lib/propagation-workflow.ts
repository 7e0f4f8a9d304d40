import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { MAX_WINDOW_WAIT_MS } from '../../shared/workflow/restart-window-policy';

export interface PropagationWorkflowProps {
  /** The function that runs every step (functions/propagation-step). */
  readonly stepFunction: lambda.IFunction;
  /** Failures are published here. */
  readonly alertTopic: sns.ITopic;
  /**
   * The database rotation function: once every consumer runs the new version of a secret it rotates,
   * it revokes the previous credential (before the previous version is retired). @default none
   */
  readonly revokeFunction?: lambda.IFunction;
  /**
   * The rotation functions that may roll a secret back after a failed propagation, by the name of
   * the state that invokes each (e.g. `{ RollBack: rotateSecret, RollBackDatabase: rotateDatabaseSecret }`):
   * a secret whose claim allows it (`$.record.rollBack`) goes to the one that rotates it. @default none
   */
  readonly rollBackFunctions?: Readonly<Record<string, lambda.IFunction>>;
  /** Between polls of ESO's sync status. @default Duration.seconds(5) */
  readonly syncPollInterval?: Duration;
  /** Between two calls of the restart step (each watches rollouts for up to a minute itself). @default Duration.seconds(5) */
  readonly rolloutPollInterval?: Duration;
  /**
   * The step function's timeout; each Task waits {@link TASK_GRACE} longer, so a call that runs out
   * of time ends by Lambda's own timeout (Sandbox.Timedout) and is no longer running when the Task
   * retries it: a retry beside a live call could restart a workload twice. @default Duration.minutes(2)
   */
  readonly stepTimeout?: Duration;
  /**
   * The whole execution, all clusters and waves, and a wait for a restart window: at most
   * MAX_WINDOW_WAIT_MS (8 days) from a cluster's plan. @default Duration.hours(6) plus 8 days
   */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The execution's timeout: 6 hours of work plus the longest wait for a restart window (the restart
 * step refuses windows further than that from the plan). The claim's lease is extended past each
 * wait (note-window-wait), so a waiting execution is never taken over.
 */
export const DEFAULT_TIMEOUT = Duration.hours(6).plus(Duration.millis(MAX_WINDOW_WAIT_MS));

/** Error names the step function raises that are worth another attempt, plus Lambda's own. */
export const RETRYABLE_ERRORS = [
  'TransientError',
  // A step that ran out of time (the Task's timeout, or Lambda's own): every step is idempotent
  // (conditional ledger writes by execution, markers in the cluster), so it runs again.
  'States.Timeout',
  'Sandbox.Timedout',
  // The function crashed (out of memory, the runtime exited): idempotent steps run again (review M1).
  'Lambda.Unknown',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * The propagation workflow: a Step Functions standard state machine that carries one AWSCURRENT move
 * of a secret through every configured cluster. Claim (exactly once per move, in the ledger) → per
 * cluster, in parallel: plan → resync → confirm (Wait + poll until a deadline) → restarts (one step
 * called in a loop: each call restarts waves within the cluster's budget, a canary first, watches
 * them and marks each verified; a failed rollout stops the waves) → cluster outcome; then record,
 * optionally retire the previous version. Any error is caught, recorded, and published to the alert
 * topic. The state machine loops over step calls, never over workloads: its history and state do
 * not grow with the number of workloads.
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
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
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
    for (const fn of new Set(Object.values(props.rollBackFunctions ?? {}))) {
      if (fn === props.revokeFunction) continue;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on a rotation function and its versions (CDK grants <arn>:*), for rollBack only.',
      });
    }
    if (props.revokeFunction) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.revokeFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on the database rotation function and its versions (CDK grants <arn>:*), for revokePrevious and rollBack only.',
      });
    }
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
      // Past the step function's own timeout; without one a Task times out after 60 s (the ASL
      // default that local interpreters apply), before a long restart call returns.
      taskTimeout: taskTimeout(props),
      resultPath,
    });
    task.addRetry(stepRetry(RETRYABLE_ERRORS));
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
  const recordFailure = step(
    'RecordFailure',
    'record-failure',
    { state: whole, executionId: sfn.JsonPath.executionName },
    '$.record',
  ).next(alert);
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
  const retireIfAsked = () =>
    new sfn.Choice(scope, props.revokeFunction ? 'RetireAfterRevoke?' : 'Retire?')
      .when(sfn.Condition.booleanEquals('$.claim.retirePrevious', true), retire)
      .otherwise(done);
  const afterRecord = new sfn.Choice(scope, 'Outcome?');
  const rollBackFunctions = Object.entries(props.rollBackFunctions ?? {});
  if (rollBackFunctions.length > 0) {
    const noteRollback = rollBackNote(step, alert);
    const rollBackFailed = new sfn.Pass(scope, 'RollBackFailed', {
      parameters: {
        subject: 'Propagation failed, and rolling back failed',
        'message.$':
          "States.Format('{} (version {}): rolling back to {} failed: {}; AWSCURRENT stays on the failed version', $.claim.secret.name, $.claim.versionId, $.claim.previousVersionId, $.error.Error)",
      },
      resultPath: '$.record.alert',
    });
    rollBackFailed.next(alert);
    for (const [name, fn] of rollBackFunctions) {
      const rollBack = rotationFunctionTask(
        scope,
        name,
        fn,
        props,
        {
          rotatorAction: 'rollBack',
          secretId: sfn.JsonPath.stringAt('$.claim.secret.arn'),
          versionId: sfn.JsonPath.stringAt('$.claim.versionId'),
          previousVersionId: sfn.JsonPath.stringAt('$.claim.previousVersionId'),
        },
        '$.rolledBack',
      );
      rollBack.addCatch(rollBackFailed, { errors: ['States.ALL'], resultPath: '$.error' });
      rollBack.next(noteRollback);
      // Only a failed propagation whose rollouts failed, of a secret that allows it, rotated by fn.
      afterRecord.when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.record.outcome', 'failed'),
          sfn.Condition.booleanEquals('$.record.rollBack', true),
          sfn.Condition.stringEquals('$.claim.rotatedBy', fn.functionArn),
        ),
        rollBack,
      );
    }
  }
  afterRecord.when(sfn.Condition.stringEquals('$.record.outcome', 'failed'), alert);
  if (props.revokeFunction) {
    // Only after every consumer in every cluster runs the new version (outcome succeeded), and
    // before AWSPREVIOUS is retired: the revoke reads the previous credential from it.
    const revoke = revokePrevious(scope, props.revokeFunction, props, alert);
    revoke.next(retireIfAsked());
    afterRecord.when(
      sfn.Condition.stringEquals('$.claim.rotatedBy', props.revokeFunction.functionArn),
      revoke,
    );
  }
  afterRecord.when(sfn.Condition.booleanEquals('$.claim.retirePrevious', true), retire).otherwise(done);
  const record = step('Record', 'record', { claim: obj('$.claim'), clusters: obj('$.clusters') }, '$.record');
  catchAll(record);
  record.next(afterRecord);

  const clusters = new sfn.Map(scope, 'Clusters', {
    itemsPath: '$.claim.clusters',
    itemSelector: {
      cluster: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      secret: obj('$.claim.secret'),
      versionId: at('$.claim.versionId'),
      moveSeq: sfn.JsonPath.numberAt('$.claim.moveSeq'),
      budget: obj('$.claim.budget'),
      // FinishCluster fits each outcome to its share of the one state all outcomes land in.
      clusterCount: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.claim.clusters')),
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

/**
 * The database rotation function's revokePrevious for the claimed version (see
 * shared/rotation/revoke-previous.ts): idempotent, so retried like a step. The propagation is
 * recorded as succeeded already; a failed revoke alerts without rewriting it.
 */
function revokePrevious(
  scope: Construct,
  revokeFunction: lambda.IFunction,
  props: PropagationWorkflowProps,
  alert: sfn.IChainable,
): tasks.LambdaInvoke {
  const revoke = rotationFunctionTask(
    scope,
    'RevokePrevious',
    revokeFunction,
    props,
    {
      rotatorAction: 'revokePrevious',
      secretId: sfn.JsonPath.stringAt('$.claim.secret.arn'),
      versionId: sfn.JsonPath.stringAt('$.claim.versionId'),
    },
    '$.revoked',
  );
  const revokeFailed = new sfn.Pass(scope, 'RevokeFailed', {
    parameters: {
      subject: 'Revoking the previous credential failed',
      'message.$':
        "States.Format('{} (new version {}): {}; the previous credential may still log in', $.claim.secret.name, $.claim.versionId, $.error.Error)",
    },
    resultPath: '$.record.alert',
  });
  revokeFailed.next(alert);
  revoke.addCatch(revokeFailed, { errors: ['States.ALL'], resultPath: '$.error' });
  return revoke;
}

/**
 * A request to a rotation function (revokePrevious, rollBack: shared/rotation/rotator-actions.ts):
 * idempotent, so retried like a step, and on a database that did not answer.
 */
function rotationFunctionTask(
  scope: Construct,
  name: string,
  fn: lambda.IFunction,
  props: PropagationWorkflowProps,
  payload: Record<string, unknown>,
  resultPath: string,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    taskTimeout: taskTimeout(props),
    resultPath,
  });
  task.addRetry(stepRetry([...RETRYABLE_ERRORS, 'DatabaseConnectionError']));
  return task;
}

/** How much longer a Task waits than its function may run (Lambda's init and invoke overhead). */
export const TASK_GRACE = Duration.seconds(30);

function taskTimeout(props: Pick<PropagationWorkflowProps, 'stepTimeout'>): sfn.Timeout {
  const step = props.stepTimeout ?? Duration.minutes(2);
  return sfn.Timeout.duration(Duration.seconds(step.toSeconds() + TASK_GRACE.toSeconds()));
}

/** How every Lambda Task state retries: 6 attempts, from 2 s doubling up to a minute, full jitter. */
function stepRetry(errors: readonly string[]): sfn.RetryProps {
  return {
    errors: [...errors],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.minutes(1),
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/**
 * After a rollBack answer: the ledger records what happened (the step `note-rollback`) and writes
 * the alert text, then `Alert`. If that step fails, the alert Record wrote still goes out.
 */
function rollBackNote(step: StepFactory, alert: sfn.IChainable): tasks.LambdaInvoke {
  const note = step(
    'NoteRollback',
    'note-rollback',
    {
      claim: sfn.JsonPath.objectAt('$.claim'),
      clusters: sfn.JsonPath.objectAt('$.clusters'),
      rolledBack: sfn.JsonPath.objectAt('$.rolledBack'),
    },
    '$.record.alert',
  );
  note.addCatch(alert, { errors: ['States.ALL'], resultPath: '$.noteError' });
  note.next(alert);
  return note;
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

  const iteration = {
    cluster: at('$.cluster'),
    secret: obj('$.secret'),
    versionId: at('$.versionId'),
    moveSeq: sfn.JsonPath.numberAt('$.moveSeq'),
  };
  const advance = step(
    'AdvanceRestarts',
    'advance-restarts',
    {
      ...iteration,
      budget: obj('$.budget'),
      plan: obj('$.plan'),
      sync: obj('$.sync'),
      restarts: obj('$.restarts'),
    },
    '$.restarts',
  );
  toFinish(advance);
  // Only consumers whose restart window is closed are left: note the wait in the ledger (which
  // extends the claim's lease past it), then one durable Wait until the earliest window opens.
  const noteWait = step(
    'NoteWindowWait',
    'note-window-wait',
    { ...iteration, executionId: sfn.JsonPath.executionName, restarts: obj('$.restarts') },
    sfn.JsonPath.DISCARD,
  );
  toFinish(noteWait);
  const waitForWindow = new sfn.Wait(scope, 'WaitForWindow', {
    time: sfn.WaitTime.timestampPath('$.restarts.waitUntil'),
  });
  noteWait.next(waitForWindow);
  waitForWindow.next(advance);
  const startRestarts = new sfn.Pass(scope, 'StartRestarts', {
    result: sfn.Result.fromObject({ done: false }),
    resultPath: '$.restarts',
  });
  const waitForRollouts = new sfn.Wait(scope, 'WaitForRollouts', {
    time: sfn.WaitTime.duration(props.rolloutPollInterval ?? Duration.seconds(5)),
  });
  const restartsDone = new sfn.Choice(scope, 'RestartsDone?')
    .when(sfn.Condition.booleanEquals('$.restarts.done', true), finish)
    .when(sfn.Condition.isPresent('$.restarts.waitUntil'), noteWait)
    .otherwise(waitForRollouts);
  waitForRollouts.next(advance);
  startRestarts.next(advance);
  advance.next(restartsDone);

  const plan = step('Plan', 'plan', iteration, '$.plan');
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
    .when(sfn.Condition.booleanEquals('$.sync.done', true), startRestarts)
    .otherwise(waitForSync);
  waitForSync.next(checkSync);
  checkSync.next(synced);
  return plan.next(resync).next(synced);
}
