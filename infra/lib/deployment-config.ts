import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { managedPrefixSchema } from '../../shared/config';
import { passwordPolicyInputSchema } from '../../shared/rotation/password-policy';
import type { SecretRotationOrchestratorProps } from './secret-rotation-orchestrator';

/** The deployment configuration kept in cdk.json under the context key `orchestrator`. */
const deploymentConfigSchema = z
  .object({
    managedPrefixes: z.array(managedPrefixSchema).min(1),
    rotationSchedules: z
      .array(
        z
          .object({
            secretName: z.string().min(1),
            automaticallyAfterDays: z.number().int().min(1).max(1000).optional(),
            scheduleExpression: z.string().min(1).optional(),
            windowHours: z.number().int().min(1).max(24).optional(),
            rotateImmediately: z.boolean().optional(),
          })
          .strict(),
      )
      .default([]),
    defaultPasswordPolicy: passwordPolicyInputSchema.optional(),
    kmsKeyArns: z.array(z.string().regex(/^arn:aws[a-z-]*:kms:/, 'must be a KMS key ARN')).default([]),
    logRetentionDays: z.number().int().positive().default(90),
  })
  .strict();

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

/** Parses the `orchestrator` context; the error names every bad field. */
export function parseDeploymentConfig(raw: unknown): DeploymentConfig {
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `orchestrator.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`Invalid deployment configuration in cdk.json context:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

/** Maps the configuration to the construct's props. */
export function orchestratorProps(config: DeploymentConfig): SecretRotationOrchestratorProps {
  return {
    managedPrefixes: config.managedPrefixes,
    defaultPasswordPolicy: config.defaultPasswordPolicy,
    kmsKeyArns: config.kmsKeyArns,
    logRetention: config.logRetentionDays as logs.RetentionDays,
    rotationSchedules: config.rotationSchedules.map((schedule) => ({
      secretName: schedule.secretName,
      automaticallyAfter:
        schedule.automaticallyAfterDays === undefined
          ? undefined
          : Duration.days(schedule.automaticallyAfterDays),
      scheduleExpression: schedule.scheduleExpression,
      window: schedule.windowHours === undefined ? undefined : Duration.hours(schedule.windowHours),
      rotateImmediately: schedule.rotateImmediately,
    })),
  };
}
