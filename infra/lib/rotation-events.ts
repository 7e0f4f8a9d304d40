import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface RotationEventsProps {
  readonly managedPrefixes: readonly string[];
  /** The propagation function; it receives `{ secretId, versionId?, movedAt }` and filters by prefix again. */
  readonly propagationFunction: lambda.IFunction;
}

/** One rule: its event pattern and how the secret (and version) are read from a matching event. */
interface RuleSpec {
  readonly id: string;
  readonly description: string;
  readonly pattern: events.EventPattern;
  readonly secretId: string;
  readonly versionId?: string;
}

/**
 * EventBridge rules that start a propagation when a managed secret gets a new AWSCURRENT version:
 * Secrets Manager's `Secret Label Updated` (AWSCURRENT), CloudTrail's RotationSucceeded, and the
 * PutSecretValue / UpdateSecret API calls that make a new version AWSCURRENT (matching both the `arn`
 * and the older `aRN` field). Each pattern is filtered to this stack's account and region and the managed
 * prefixes; every target has retries and a dead-letter queue, which also receives the events the
 * function failed on after Lambda's own retries.
 */
export class RotationEvents extends Construct {
  readonly rules: readonly events.Rule[];
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RotationEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the rules’ targets.',
    });
    this.rules = ruleSpecs(this, props.managedPrefixes).map((spec) => {
      const rule = new events.Rule(this, spec.id, {
        description: spec.description,
        // Events forwarded from another account's or region's bus keep their origin: never ours to
        // propagate (this stack's clusters read this region's secrets).
        eventPattern: { ...spec.pattern, account: [Stack.of(this).account], region: [Stack.of(this).region] },
      });
      rule.addTarget(
        new targets.LambdaFunction(props.propagationFunction, {
          event: events.RuleTargetInput.fromObject({
            secretId: events.EventField.fromPath(spec.secretId),
            ...(spec.versionId ? { versionId: events.EventField.fromPath(spec.versionId) } : {}),
            // When AWSCURRENT moved (the event's time): the propagation's freshness counts from it.
            movedAt: events.EventField.time,
          }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
        }),
      );
      return rule;
    });
    // The rules invoke the function asynchronously. The queue above holds events EventBridge could
    // not deliver; an event the function itself failed on, after Lambda's retries, lands there too.
    props.propagationFunction.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
  }
}

/**
 * The API calls that make a new version AWSCURRENT. PutSecretValue without `VersionStages` moves
 * AWSCURRENT to the new version; with stages, only if they list AWSCURRENT (a rotation's createSecret
 * writes AWSPENDING alone). Matched positively: `anything-but` would pass `["AWSPENDING", "X"]`, since
 * an array matches when any element does. UpdateSecret creates a version (and returns its
 * `versionId`) only when it sets a value; a description or KMS key change returns none.
 */
const MAKES_A_VERSION_CURRENT = [
  { eventName: ['PutSecretValue'], requestParameters: { versionStages: [{ exists: false }] } },
  { eventName: ['PutSecretValue'], requestParameters: { versionStages: ['AWSCURRENT'] } },
  { eventName: ['UpdateSecret'], responseElements: { versionId: [{ exists: true }] } },
];

function ruleSpecs(scope: Construct, prefixes: readonly string[]): RuleSpec[] {
  const stack = Stack.of(scope);
  const arnPrefixes = prefixes.map((prefix) => ({
    prefix: `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${prefix}`,
  }));
  const byName = prefixes.map((prefix) => ({ prefix }));
  const apiCall = (field: 'arn' | 'aRN'): events.EventPattern => ({
    source: ['aws.secretsmanager'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      responseElements: { [field]: arnPrefixes },
      $or: MAKES_A_VERSION_CURRENT,
    },
  });
  return [
    {
      id: 'LabelUpdated',
      description: 'AWSCURRENT moved to a new version of a managed secret',
      pattern: {
        source: ['aws.secretsmanager'],
        detailType: ['Secret Label Updated'],
        detail: { labelUpdated: ['AWSCURRENT'], name: byName },
      },
      secretId: '$.detail.name',
      versionId: '$.detail.versionId',
    },
    {
      id: 'RotationSucceeded',
      description: 'A managed secret finished a rotation',
      pattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['RotationSucceeded'], additionalEventData: { SecretId: arnPrefixes } },
      },
      secretId: '$.detail.additionalEventData.SecretId',
    },
    {
      id: 'ValueChanged',
      description: 'PutSecretValue or UpdateSecret made a new version of a managed secret AWSCURRENT',
      pattern: apiCall('arn'),
      secretId: '$.detail.responseElements.arn',
    },
    {
      id: 'ValueChangedOldField',
      description: 'The same API calls, reported with aRN',
      pattern: apiCall('aRN'),
      secretId: '$.detail.responseElements.aRN',
    },
  ];
}
