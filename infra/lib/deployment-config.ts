import * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { managedPrefixSchema } from '../../shared/config';
import { passwordPolicyInputSchema } from '../../shared/rotation/password-policy';
import { checkRotationRules, rotationRuleSchema } from '../../shared/sweep/schedule-rules';

/** The retention periods CloudWatch Logs accepts, in days (RetentionDays.INFINITE is 9999). */
const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((value) => typeof value === 'number');

const rotationScheduleSchema = z
  .object({
    secretName: z.string().min(1),
    automaticallyAfterDays: z.number().int().min(1).max(1000).optional(),
    scheduleExpression: z
      .string()
      .regex(/^(rate|cron)\(.+\)$/, 'must be rate(…) or cron(…)')
      .optional(),
    windowHours: z.number().int().min(1).max(24).optional(),
    rotateImmediately: z.boolean().optional(),
  })
  .strict()
  .refine(
    (schedule) =>
      (schedule.automaticallyAfterDays === undefined) !== (schedule.scheduleExpression === undefined),
    {
      message: 'needs exactly one of automaticallyAfterDays or scheduleExpression',
    },
  );

/** The deployment configuration kept in cdk.json under the context key `orchestrator`. */
const deploymentConfigSchema = z
  .object({
    managedPrefixes: z.array(managedPrefixSchema).min(1, 'must name at least one prefix'),
    rotationSchedules: z.array(rotationScheduleSchema).default([]),
    /**
     * Schedules by prefix, set by the sweep on every secret under the prefix (the longest prefix
     * wins; a secret's `rotator:schedule` tag wins over any rule; `rotationSchedules` secrets are
     * left to CloudFormation).
     */
    rotationRules: z.array(rotationRuleSchema).default([]),
    defaultPasswordPolicy: passwordPolicyInputSchema.optional(),
    kmsKeyArns: z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN'),
      )
      .default([]),
    logRetentionDays: z
      .number()
      .refine((days) => RETENTION_DAYS.includes(days), `must be one of ${RETENTION_DAYS.join(', ')}`)
      .default(logs.RetentionDays.THREE_MONTHS),
    /**
     * IAM principals (role or user ARNs) allowed to call the emergency rotation URL; none means no
     * URL. Automation without a URL can still send the "Secret Rotation Requested" event.
     */
    emergencyPrincipals: z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, 'must be an IAM role or user ARN'),
      )
      .default([]),
    /** EKS clusters to carry rotated versions to; absent means rotation only. */
    propagation: z
      .object({
        clusterNames: z
          .array(z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be an EKS cluster name'))
          .min(1),
        // Step Functions runs at most 40 iterations of an inline Map at once.
        restartConcurrency: z.number().int().min(1).max(40).optional(),
        requireOptIn: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((config, ctx) =>
    checkRotationRules(config.rotationRules, config.managedPrefixes, ctx, ['rotationRules']),
  );

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

/**
 * Parses the `orchestrator` context (an object from cdk.json, or JSON text from `-c orchestrator=…`);
 * the error names every bad field.
 * @example parseDeploymentConfig(app.node.tryGetContext('orchestrator'))
 */
export function parseDeploymentConfig(raw: unknown): DeploymentConfig {
  if (raw === undefined) {
    throw new Error('Missing deployment configuration: set the context key "orchestrator" in cdk.json');
  }
  const parsed = deploymentConfigSchema.safeParse(typeof raw === 'string' ? parseJson(raw) : raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      [['orchestrator', ...issue.path.map(String)].join('.'), issue.message].join(': '),
    );
    throw new Error(
      `Invalid deployment configuration (cdk.json context "orchestrator"):\n  ${problems.join('\n  ')}`,
    );
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('Invalid deployment configuration: context "orchestrator" is a string but not JSON');
  }
}
