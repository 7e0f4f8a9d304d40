import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
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
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on failures the functions cannot report themselves: a function erroring (a crash, a cold
 * start that fails on its configuration, a timeout) or being throttled, and work parked in a
 * dead-letter queue. Each fires on the first occurrence; missing data means nothing happened.
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
    this.alarms = [...functionAlarms, ...queueAlarms];
  }
}
