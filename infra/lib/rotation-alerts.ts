import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { aws_events } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import { DEFAULT_FRESHNESS_OBJECTIVE_MINUTES } from '../../shared/compliance/compliance-config';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/observability';
import { FRESHNESS_METRIC } from '../../shared/workflow/propagation-freshness';

export interface RotationAlertsProps {
  readonly managedPrefixes: readonly string[];
  /** How often the sweep runs; no completed sweep for two of these raises `SweepMissing`. @default 1 hour (RotationSweep's default schedule) */
  readonly sweepInterval?: Duration;
  /**
   * The propagation freshness objective: a propagation whose last consumer was verified longer than
   * this after AWSCURRENT moved raises `PropagationFreshness` (cdk.json compliance.freshnessObjectiveMinutes).
   * @default 1 hour
   */
  readonly freshnessObjective?: Duration;
}

/**
 * An SNS rule target whose topic-policy statement admits EventBridge only for the rule it is bound
 * to. CDK's `targets.SnsTopic` grants `events.amazonaws.com` without a condition, so any rule in any
 * account could publish to the topic.
 */
class RuleScopedTopicTarget implements events.IRuleTarget {
  constructor(
    private readonly topic: sns.ITopic,
    private readonly message: events.RuleTargetInput,
  ) {}

  bind(rule: aws_events.IRuleRef): events.RuleTargetConfig {
    const ruleArn = rule.ruleRef.ruleArn;
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
    return { arn: this.topic.topicArn, input: this.message, targetResource: this.topic };
  }
}

/** Metrics the functions publish (EMF, dimension `service`) that mean someone should look. */
const ALARMS = [
  { id: 'Overdue', metric: 'OverdueSecrets', what: 'managed secrets are past their rotation schedule' },
  { id: 'Stuck', metric: 'StuckRotations', what: 'rotations are stuck with a pending version' },
  { id: 'RotationNotStarted', metric: 'RotationStartFailures', what: 'the sweep could not start rotations' },
  { id: 'PropagationFailed', metric: 'PropagationFailed', what: 'propagations to clusters failed' },
  {
    id: 'ReconcileFailed',
    metric: 'ReconcilePropagationFailures',
    what: 'the sweep could not start propagations it found missing',
  },
  {
    id: 'ScheduleFailed',
    metric: 'RotationScheduleFailures',
    what: 'the sweep could not set rotation schedules its rules ask for',
  },
] as const;

/**
 * Where operators hear about trouble: an encrypted SNS topic fed by CloudWatch alarms on the
 * functions' metrics and by Secrets Manager's RotationFailed events for managed secrets, and a
 * dashboard of the same metrics. Messages carry secret names and counts, never values.
 */
export class RotationAlerts extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RotationAlertsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Secret rotation alerts topic',
    });
    // EventBridge and CloudWatch publish to an encrypted topic only if the key lets them.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: [
          new iam.ServicePrincipal('events.amazonaws.com'),
          new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        ],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      masterKey: key,
      enforceSSL: true,
      displayName: 'Secret rotation alerts',
    });
    // A topic policy replaces SNS's default one, so alarms may publish only if a statement says so.
    // Confused-deputy guard as AWS documents it for alarm actions: this account's alarms, this region.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowPublishFromThisAccountsAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );

    const metric = (name: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: 'Maximum',
        period: Duration.hours(1),
      });
    this.alarms = ALARMS.map((spec) => {
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmDescription: `Secret rotation orchestrator: ${spec.what}`,
        metric: metric(spec.metric),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      return alarm;
    });
    // Every completed sweep publishes ManagedSecrets (0 included); a sweep that dies at cold start,
    // is throttled or stops being scheduled publishes nothing, which the alarms above read as OK.
    const heartbeat = new cloudwatch.Alarm(this, 'SweepMissing', {
      alarmDescription: 'Secret rotation orchestrator: no sweep has completed for two sweep intervals',
      metric: metric('ManagedSecrets').with({
        statistic: 'SampleCount',
        period: props.sweepInterval ?? Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    heartbeat.addAlarmAction(new actions.SnsAction(this.topic));
    const objective = props.freshnessObjective ?? Duration.minutes(DEFAULT_FRESHNESS_OBJECTIVE_MINUTES);
    const freshness = new cloudwatch.Alarm(this, 'PropagationFreshness', {
      alarmDescription: `Secret rotation orchestrator: a propagation took longer than ${objective.toHumanString()} from AWSCURRENT moving to its last consumer verified`,
      metric: metric(FRESHNESS_METRIC).with({ period: Duration.minutes(5) }),
      threshold: objective.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    freshness.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms = [...this.alarms, heartbeat, freshness];

    new events.Rule(this, 'RotationFailed', {
      description: 'A managed secret failed to rotate',
      eventPattern: {
        account: [stack.account],
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventName: ['RotationFailed'],
          additionalEventData: {
            SecretId: props.managedPrefixes.map((prefix) => ({
              prefix: `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${prefix}`,
            })),
          },
        },
      },
      targets: [
        new RuleScopedTopicTarget(
          this.topic,
          events.RuleTargetInput.fromText(
            `Rotation failed for ${events.EventField.fromPath('$.detail.additionalEventData.SecretId')} at ${events.EventField.time}`,
          ),
        ),
      ],
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Secrets',
            left: [metric('ManagedSecrets'), metric('OverdueSecrets'), metric('StuckRotations')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Rotations started by the sweep',
            left: [metric('RotationsStarted'), metric('RotationStartFailures')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Propagation',
            left: [metric('PropagationSucceeded'), metric('PropagationFailed'), metric('RestartedWorkloads')],
            right: [metric(FRESHNESS_METRIC)],
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms] }),
        ],
      ],
    });
  }
}
