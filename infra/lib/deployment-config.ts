import * as logs from 'aws-cdk-lib/aws-logs';
import { checkComplianceConfig, complianceConfigSchema } from '../../shared/compliance/compliance-config';
import { managedPrefixSchema } from '../../shared/config';
import { clusterTargetSchema, duplicateClusterNames } from '../../shared/kubernetes/eks-cluster-access';
import { checkPrefixRules } from '../../shared/managed-prefixes';
import { passwordPolicyInputSchema } from '../../shared/rotation/password-policy';
import * as z from '../../shared/schema';
import { rotationRuleSchema } from '../../shared/sweep/schedule-rules';
import { restartWindowsConfigSchema } from '../../shared/workflow/restart-window-policy';
import { prefixOverlapProblems, prefixShapeProblem } from './managed-prefix-rules';
import { notificationsConfigSchema, notificationsProblems } from './rotation-notifications';

/** The retention periods CloudWatch Logs accepts, in days (RetentionDays.INFINITE is 9999). */
const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((value) => typeof value === 'number');

const rotationScheduleSchema = z
  .strictObject({
    secretName: z.string().check(z.minLength(1)),
    automaticallyAfterDays: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(1000))),
    scheduleExpression: z.optional(
      z.string().check(z.regex(/^(rate|cron)\(.+\)$/, 'must be rate(…) or cron(…)')),
    ),
    windowHours: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(24))),
    rotateImmediately: z.optional(z.boolean()),
    /** `database`: rotated by the database rotation function (needs `databaseRotation`). */
    rotationFunction: z.optional(z.enum(['generated', 'database'])),
  })
  .check(
    z.refine(
      (schedule) =>
        (schedule.automaticallyAfterDays === undefined) !== (schedule.scheduleExpression === undefined),
      { message: 'needs exactly one of automaticallyAfterDays or scheduleExpression' },
    ),
  );

/** An IAM role or user ARN. */
const iamPrincipalArn = z
  .string()
  .check(
    z.regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, 'must be an IAM role or user ARN'),
  );

/** The database rotation function: the master secrets it may read, TLS, and the VPC it runs in. */
const databaseRotationSchema = z.strictObject({
  masterSecretArns: z._default(
    z.array(
      z
        .string()
        .check(
          z.regex(
            /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$/,
            'must be a full secret ARN (with its six-character suffix)',
          ),
        ),
    ),
    [],
  ),
  tlsByDefault: z.optional(z.boolean()),
  rdsCertificates: z.optional(z.boolean()),
  vpc: z.optional(
    z.strictObject({
      vpcId: z.string().check(z.regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id')),
      subnetIds: z
        .array(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id')))
        .check(z.minLength(1)),
      securityGroupIds: z
        .array(z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id')))
        .check(z.minLength(1)),
    }),
  ),
});

/** The deployment configuration kept in cdk.json under the context key `orchestrator`. */
const deploymentConfigSchema = z
  .strictObject({
    managedPrefixes: z
      .array(
        managedPrefixSchema.check(
          z.superRefine((prefix, ctx) => {
            if (!managedPrefixSchema.safeParse(prefix).success) return; // reported above
            const problem = prefixShapeProblem(prefix);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: prefix });
          }),
        ),
      )
      .check(
        z.minLength(1, 'must name at least one prefix'),
        z.superRefine((prefixes, ctx) => {
          for (const { index, message } of prefixOverlapProblems(prefixes)) {
            ctx.addIssue({ code: 'custom', message, input: prefixes, path: [index] });
          }
        }),
      ),
    rotationSchedules: z._default(z.array(rotationScheduleSchema), []),
    /**
     * Schedules by prefix, set by the sweep on every secret under the prefix (the longest prefix
     * wins; a secret's `rotator:schedule` tag wins over any rule; `rotationSchedules` secrets are
     * left to CloudFormation).
     */
    rotationRules: z._default(z.array(rotationRuleSchema), []),
    defaultPasswordPolicy: z.optional(passwordPolicyInputSchema),
    kmsKeyArns: z._default(
      z.array(
        z
          .string()
          .check(
            z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN'),
          ),
      ),
      [],
    ),
    logRetentionDays: z._default(
      z
        .number()
        .check(
          z.refine((days) => RETENTION_DAYS.includes(days), `must be one of ${RETENTION_DAYS.join(', ')}`),
        ),
      logs.RetentionDays.THREE_MONTHS,
    ),
    /**
     * IAM principals (role or user ARNs) allowed to call the emergency rotation URL; none means no
     * URL. Automation without a URL can still send the "Secret Rotation Requested" event.
     */
    emergencyPrincipals: z._default(z.array(iamPrincipalArn), []),
    /**
     * IAM principals (role or user ARNs) allowed to put "Secret Rotation Requested" events on the
     * stack's request bus (the emergency principals are allowed too); none means only those.
     */
    requestPrincipals: z._default(z.array(iamPrincipalArn), []),
    /** Minutes between two emergency rotations of one secret (0: no cooldown), at most a day. */
    emergencyCooldownMinutes: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(1440)), 15),
    /** Deploys the database rotation function (PostgreSQL, MySQL, MariaDB credentials); absent: none. */
    databaseRotation: z.optional(databaseRotationSchema),
    /** EKS clusters to carry rotated versions to; absent means rotation only. */
    propagation: z.optional(
      z.strictObject({
        /**
         * A name (a cluster in this account and region), or `{ name, roleArn, externalId?, region? }`
         * for one reached through a role in its own account (docs/cross-account.md).
         */
        clusterNames: z.array(clusterTargetSchema).check(
          z.minLength(1),
          z.superRefine((clusters, ctx) => {
            for (const name of duplicateClusterNames(clusters)) {
              ctx.addIssue({ code: 'custom', message: `lists cluster ${name} twice`, input: clusters });
            }
          }),
        ),
        // Rollouts in flight per cluster; the restart step's own loop, not a Map, so no 40 limit.
        restartConcurrency: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(500))),
        emergencyRestartConcurrency: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(500))),
        restartPercent: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(100))),
        canaryWorkloads: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(10))),
        requireOptIn: z.optional(z.boolean()),
        /** Roll every secret back after a propagation whose rollouts failed, where its strategy allows. */
        autoRollback: z.optional(z.boolean()),
        /**
         * When workloads may restart (docs/restart-windows.md): a default window and windows by
         * namespace; a workload's `secret-rotator.io/restart-window` annotation wins. Absent: any time.
         */
        restartWindows: z.optional(restartWindowsConfigSchema),
      }),
    ),
    /** Webhook notifications of every ended propagation (needs propagation); absent: none. */
    notifications: z.optional(notificationsConfigSchema),
    /**
     * Maximum ages by prefix (`rotator report`; the longest prefix wins, a secret's
     * `rotator:max-age-days` tag wins over any rule) and the propagation freshness objective
     * (the PropagationFreshness alarm). Absent: no maximum age, a 1-hour objective.
     */
    compliance: z.optional(complianceConfigSchema),
  })
  .check(
    z.superRefine((config, ctx) =>
      checkPrefixRules(config.rotationRules, config.managedPrefixes, ctx, ['rotationRules']),
    ),
    z.superRefine((config, ctx) =>
      checkComplianceConfig(config.compliance, config.managedPrefixes, ctx, ['compliance']),
    ),
    z.superRefine((config, ctx) => {
      for (const { path, message } of notificationsProblems(config)) {
        ctx.addIssue({ code: 'custom', message, input: config.notifications, path });
      }
    }),
    z.superRefine((config, ctx) => {
      config.rotationSchedules.forEach((schedule, index) => {
        if (schedule.rotationFunction === 'database' && config.databaseRotation === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: 'asks for the database rotation function, which needs databaseRotation',
            input: schedule,
            path: ['rotationSchedules', index, 'rotationFunction'],
          });
        }
      });
    }),
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
