import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface FailureAlarmsProps {
  /** Where every alarm sends its ALARM notification. */
  readonly topic: sns.ITopic;
  /** Functions by a short name (used in alarm ids); each gets an `Errors` and a `Throttles` alarm. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter queues by a short name; each alarms while it holds a visible message. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /**
   * EventBridge rules by a short name: each alarms on a target invocation that failed for good
   * (`FailedInvocations`) or could not even reach its dead-letter queue
   * (`InvocationsFailedToBeSentToDlq`). Give `eventBusName` for a rule on a custom bus: its
   * metrics carry both dimensions there.
   */
  readonly rules?: Readonly<Record<string, { readonly rule: events.IRule; readonly eventBusName?: string }>>;
  /**
   * EventBridge Scheduler schedule groups by a short name: each alarms on an invocation dropped
   * after the schedule's retry policy was exhausted (`InvocationDroppedCount`).
   */
  readonly scheduleGroups?: Readonly<Record<string, string>>;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on failures the functions cannot report themselves: a function erroring (a crash, a cold
 * start that fails on its configuration, a timeout) or being throttled, work parked in a
 * dead-letter queue, an EventBridge rule that could not deliver, and a scheduled invocation that
 * EventBridge Scheduler dropped. Each fires on the first occurrence; missing data means nothing
 * happened (EventBridge publishes these metrics only when they are not zero).
 *
 * @example
 * new FailureAlarms(this, 'Failures', {
 *   topic: alerts.topic,
 *   functions: { Sweep: sweep.sweepFunction },
 *   deadLetterQueues: { RequestsDeadLetters: requests.deadLetterQueue },
 * });
 */
export class FailureAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: FailureAlarmsProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    const aboveZero = (alarmId: string, what: string, metric: cloudwatch.IMetric) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `Secret rotation orchestrator: ${what}`,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      return alarm;
    };
    const functionAlarms = Object.entries(props.functions).flatMap(([name, fn]) => [
      aboveZero(`${name}Errors`, `${name} invocations failed`, fn.metricErrors({ period: FIVE_MINUTES })),
      aboveZero(
        `${name}Throttles`,
        `${name} invocations were throttled`,
        fn.metricThrottles({ period: FIVE_MINUTES }),
      ),
    ]);
    const queueAlarms = Object.entries(props.deadLetterQueues).map(([name, queue]) =>
      aboveZero(
        name,
        `${name} holds messages that were not processed; read them, fix the cause, then redrive or delete them`,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      ),
    );
    const sum = (namespace: string, metricName: string, dimensionsMap: Record<string, string>) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic: 'Sum', period: FIVE_MINUTES });
    const ruleAlarms = Object.entries(props.rules ?? {}).flatMap(([name, { rule, eventBusName }]) => {
      const dimensions = { ...(eventBusName ? { EventBusName: eventBusName } : {}), RuleName: rule.ruleName };
      return [
        aboveZero(
          `${name}FailedInvocations`,
          `the ${name} rule could not invoke its target (after EventBridge's retries)`,
          sum('AWS/Events', 'FailedInvocations', dimensions),
        ),
        aboveZero(
          `${name}DeadLetterFailures`,
          `the ${name} rule could not put a failed event in its dead-letter queue: the event is lost`,
          sum('AWS/Events', 'InvocationsFailedToBeSentToDlq', dimensions),
        ),
      ];
    });
    const scheduleAlarms = Object.entries(props.scheduleGroups ?? {}).map(([name, group]) =>
      aboveZero(
        `${name}Dropped`,
        `EventBridge Scheduler dropped a ${name} invocation after its retries`,
        sum('AWS/Scheduler', 'InvocationDroppedCount', { ScheduleGroup: group }),
      ),
    );
    this.alarms = [...functionAlarms, ...queueAlarms, ...ruleAlarms, ...scheduleAlarms];
  }
}
