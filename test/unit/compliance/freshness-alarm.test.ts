import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RotationAlerts } from '../../../infra/lib/rotation-alerts';

function template(freshnessObjective?: Duration): Template {
  const stack = new Stack(new App(), 'Alerts', { env: { account: '111122223333', region: 'eu-west-1' } });
  new RotationAlerts(stack, 'Alerts', { managedPrefixes: ['prod/app-team/'], freshnessObjective });
  return Template.fromStack(stack);
}

const freshnessAlarm = (threshold: number) => ({
  Namespace: 'SecretRotationOrchestrator',
  MetricName: 'PropagationFreshness',
  Dimensions: [{ Name: 'service', Value: 'secret-rotation-orchestrator' }],
  Statistic: 'Maximum',
  Period: 300,
  Threshold: threshold,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'notBreaching',
  AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertsTopic') }],
});

describe('the PropagationFreshness alarm', () => {
  it('alarms on the alert topic when a propagation takes longer than the default hour', () => {
    template().hasResourceProperties('AWS::CloudWatch::Alarm', freshnessAlarm(3600));
  });

  it('takes the configured objective', () => {
    const t = template(Duration.minutes(20));
    t.hasResourceProperties('AWS::CloudWatch::Alarm', freshnessAlarm(1200));
    expect(
      Object.keys(
        t.findResources('AWS::CloudWatch::Alarm', {
          Properties: { Threshold: 3600, MetricName: 'PropagationFreshness' },
        }),
      ),
    ).toEqual([]);
  });
});
