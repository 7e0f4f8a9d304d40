/** What ListSecrets tells about one secret: enough for the sweep without a call per secret. */
export interface SecretSummary {
  readonly name: string;
  readonly arn: string;
  readonly createdDate?: Date;
  readonly lastRotatedDate?: Date;
  readonly lastChangedDate?: Date;
  readonly nextRotationDate?: Date;
  readonly rotationEnabled: boolean;
  /** RotationRules.AutomaticallyAfterDays, when the schedule is given in days. */
  readonly rotationIntervalDays?: number;
  /** RotationRules.ScheduleExpression, when the schedule is a `rate(…)` or `cron(…)` expression. */
  readonly rotationScheduleExpression?: string;
  /** RotationRules.Duration: the rotation window, e.g. `4h`. */
  readonly rotationWindow?: string;
  /** The function Secrets Manager invokes to rotate the secret. */
  readonly rotationLambdaArn?: string;
  readonly versionIdsToStages: Readonly<Record<string, readonly string[]>>;
  readonly tags: Readonly<Record<string, string>>;
}
