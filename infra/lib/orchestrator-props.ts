import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { managedPrefixSchema } from '../../shared/config';
import { isManaged } from '../../shared/managed-prefixes';
import { type PasswordPolicyInput, passwordPolicyInputSchema } from '../../shared/rotation/password-policy';
import { prefixOverlapProblems, prefixShapeProblem } from './managed-prefix-rules';

/** A Secrets Manager rotation schedule for a secret that already exists outside this stack. */
export interface RotationScheduleProps {
  /** Name of the secret (not its ARN); must be under one of the managed prefixes. */
  readonly secretName: string;
  /**
   * Rotate this long after the last rotation, in whole days (1–1000).
   * Give exactly one of this or `scheduleExpression`.
   */
  readonly automaticallyAfter?: Duration;
  /** `rate(…)` or `cron(…)`, as Secrets Manager accepts them. Exactly one of this or `automaticallyAfter`. */
  readonly scheduleExpression?: string;
  /**
   * Length of the rotation window, in whole hours (1–24), e.g. `Duration.hours(4)`.
   * @default Secrets Manager's default (one hour for hourly schedules, else the rest of the UTC day)
   */
  readonly window?: Duration;
  /**
   * Rotate as soon as the schedule is created or changed; `false` makes Secrets Manager run only a
   * test of the rotation configuration (the testSecret step).
   * @default true (Secrets Manager's default)
   */
  readonly rotateImmediately?: boolean;
  /**
   * The function that rotates the secret: `generated` (RotateSecret: random values) or `database`
   * (RotateDatabaseSecret: a PostgreSQL or MySQL credential in AWS's JSON shape, changed in the
   * database too; needs `databaseRotation`).
   * @default 'generated'
   */
  readonly rotationFunction?: 'generated' | 'database';
}

/**
 * The database rotation function (RotateDatabaseSecret): the PostgreSQL and MySQL/MariaDB strategies
 * with their drivers, in a function of its own so that only it may reach the databases and read
 * their master secrets.
 */
export interface DatabaseRotationProps {
  /**
   * Full ARNs (with the six-character suffix) of the master secrets that alternating-users
   * rotations log in with (the `masterarn` of each rotated secret). The function may read these and
   * no other secret outside the managed prefixes. @default none (single-user rotation only)
   */
  readonly masterSecretArns?: readonly string[];
  /**
   * The VPC the function runs in, to reach databases that are not public. It then needs a route to
   * Secrets Manager: an interface VPC endpoint (`ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER`)
   * or NAT. @default no VPC
   */
  readonly vpc?: ec2.IVpc;
  /** Subnets in `vpc`. @default the VPC's private subnets (CDK's default for a function) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the function; the databases' groups must admit them. @default one new group, all outbound */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /**
   * TLS for secrets that do not say (no `ssl`/`sslmode` field), with the server's certificate
   * verified against Node's trust store. @default false
   */
  readonly tlsByDefault?: boolean;
  /**
   * Trust Amazon RDS's CA certificates (every region's RDS and Aurora roots, shipped in the
   * function's bundle) besides Node's trust store and NODE_EXTRA_CA_CERTS. @default true
   */
  readonly rdsCertificates?: boolean;
}

export interface SecretRotationOrchestratorProps {
  /**
   * Secret-name prefixes this deployment manages, e.g. `['prod/app-team/']`. Matched literally, as
   * IAM matches `secret:<prefix>*`, so each must end with `/` (`prod/app` would also cover
   * `prod/apple`) and have at least two segments. Required, at least one, no wildcards, none
   * within another.
   */
  readonly managedPrefixes: readonly string[];
  /** Rotation schedules for existing secrets under the managed prefixes. @default none */
  readonly rotationSchedules?: readonly RotationScheduleProps[];
  /**
   * Password policy for every managed secret; a secret's `rotator:*` tags override it field by field.
   * @default the function's built-in policy (32 characters, safe punctuation)
   */
  readonly defaultPasswordPolicy?: PasswordPolicyInput;
  /**
   * Key ARNs (not aliases) of the customer-managed KMS keys that encrypt managed secrets. The function
   * may use them only through Secrets Manager in the stack's region.
   * @default none (secrets use the AWS-managed key `aws/secretsmanager`, which needs no grant)
   */
  readonly kmsKeyArns?: readonly string[];
  /** Retention of the function's log group. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** Memory of the rotation function in MiB (128–10240). @default 256 */
  readonly memorySize?: number;
  /** Timeout of one invocation (one rotation step). @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Instruction set of the rotation function. @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** X-Ray tracing of the rotation function. @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
  /** Deploys the database rotation function too. @default none (only generated values are rotated) */
  readonly databaseRotation?: DatabaseRotationProps;
}

/** The defaults the TSDoc above documents, in one place. */
export const ORCHESTRATOR_DEFAULTS = {
  logRetention: logs.RetentionDays.THREE_MONTHS,
  memorySize: 256,
  timeout: Duration.seconds(30),
  architecture: lambda.Architecture.ARM_64,
  tracing: lambda.Tracing.DISABLED,
} as const;

/** Characters Secrets Manager allows in secret names. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SCHEDULE_EXPRESSION = /^(rate|cron)\(.+\)$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * Every problem with the props, as sentences; empty when they are valid. Pure: `stackRegion` is the
 * stack's region, or undefined when the stack is environment-agnostic.
 * @example orchestratorPropsProblems({ managedPrefixes: [] }, undefined) // ['managedPrefixes must …']
 */
export function orchestratorPropsProblems(
  props: SecretRotationOrchestratorProps,
  stackRegion: string | undefined,
): string[] {
  return [
    ...prefixProblems(props.managedPrefixes),
    ...(props.rotationSchedules ?? []).flatMap((schedule, index, all) =>
      scheduleProblems(schedule, index, all, props.managedPrefixes),
    ),
    ...passwordPolicyProblems(props.defaultPasswordPolicy),
    ...(props.kmsKeyArns ?? []).flatMap((arn) => kmsKeyProblems(arn, stackRegion)),
    ...memoryProblems(props.memorySize),
    ...databaseRotationProblems(props),
  ];
}

function databaseRotationProblems(props: SecretRotationOrchestratorProps): string[] {
  const problems = (props.rotationSchedules ?? [])
    .filter((schedule) => schedule.rotationFunction === 'database' && props.databaseRotation === undefined)
    .map(
      (schedule) =>
        `rotation schedule for "${schedule.secretName}" asks for the database rotation function, which needs databaseRotation`,
    );
  for (const arn of props.databaseRotation?.masterSecretArns ?? []) {
    if (Token.isUnresolved(arn) || SECRET_ARN.test(arn)) continue;
    problems.push(
      `databaseRotation.masterSecretArns: "${arn}" is not a full secret ARN (arn:…:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`,
    );
  }
  const { vpc, vpcSubnets, securityGroups } = props.databaseRotation ?? {};
  if (vpc === undefined && (vpcSubnets !== undefined || securityGroups !== undefined)) {
    problems.push('databaseRotation: vpcSubnets and securityGroups need vpc');
  }
  return problems;
}

function prefixProblems(prefixes: readonly string[]): string[] {
  if (prefixes.length === 0) return ['managedPrefixes must name at least one prefix'];
  const each = prefixes.flatMap((prefix) => {
    if (Token.isUnresolved(prefix)) return ['managedPrefixes must be literal strings, not tokens'];
    if (/[*?]/.test(prefix)) {
      return [`managed prefix "${prefix}" must not contain a wildcard (* or ?): IAM would widen it`];
    }
    const checked = managedPrefixSchema.safeParse(prefix);
    if (!checked.success) return [`managed prefix "${prefix}" ${checked.error.issues[0]?.message}`];
    const shape = prefixShapeProblem(prefix);
    return shape === undefined ? [] : [`managed prefix "${prefix}" ${shape}`];
  });
  const literal = prefixes.filter((prefix) => !Token.isUnresolved(prefix));
  return [...each, ...prefixOverlapProblems(literal).map((problem) => problem.message)];
}

function scheduleProblems(
  schedule: RotationScheduleProps,
  index: number,
  all: readonly RotationScheduleProps[],
  prefixes: readonly string[],
): string[] {
  const name = schedule.secretName;
  const where = `rotation schedule for "${name}"`;
  const problems: string[] = [];
  if (!SECRET_NAME.test(name)) {
    problems.push(`${where}: secretName must be a secret name (letters, digits and /_+=.@-), not an ARN`);
  } else if (!isManaged(name, prefixes)) {
    problems.push(`${where} is outside the managed prefixes (${prefixes.join(', ')})`);
  }
  if (all.findIndex((other) => other.secretName === name) !== index) {
    problems.push(`${where} is given more than once; a secret has one rotation schedule`);
  }
  if ((schedule.automaticallyAfter === undefined) === (schedule.scheduleExpression === undefined)) {
    problems.push(`${where} needs exactly one of automaticallyAfter or scheduleExpression`);
  }
  const days = schedule.automaticallyAfter?.toDays({ integral: false });
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 1000)) {
    problems.push(`${where}: automaticallyAfter must be whole days from 1 to 1000`);
  }
  const expression = schedule.scheduleExpression;
  if (expression !== undefined && !SCHEDULE_EXPRESSION.test(expression)) {
    problems.push(`${where}: scheduleExpression must be rate(…) or cron(…), got "${expression}"`);
  }
  const hours = schedule.window?.toHours({ integral: false });
  if (hours !== undefined && !(Number.isInteger(hours) && hours >= 1 && hours <= 24)) {
    problems.push(`${where}: window must be whole hours from 1 to 24`);
  }
  return problems;
}

function passwordPolicyProblems(policy: PasswordPolicyInput | undefined): string[] {
  if (policy === undefined) return [];
  const checked = passwordPolicyInputSchema.safeParse(policy);
  if (checked.success) return [];
  return checked.error.issues.map((issue) => {
    const field = ['defaultPasswordPolicy', ...issue.path.map(String)].join('.');
    return `${field}: ${issue.message}`;
  });
}

function kmsKeyProblems(arn: string, stackRegion: string | undefined): string[] {
  if (Token.isUnresolved(arn)) return [];
  const match = KMS_KEY_ARN.exec(arn);
  if (!match) return [`kmsKeyArns: "${arn}" is not a KMS key ARN (arn:…:kms:<region>:<account>:key/<id>)`];
  const keyRegion = match[1];
  if (stackRegion !== undefined && !Token.isUnresolved(stackRegion) && keyRegion !== stackRegion) {
    return [
      `kmsKeyArns: "${arn}" is in ${keyRegion}; Secrets Manager in ${stackRegion} uses only keys in its own region`,
    ];
  }
  return [];
}

function memoryProblems(memorySize: number | undefined): string[] {
  if (
    memorySize === undefined ||
    (Number.isInteger(memorySize) && memorySize >= 128 && memorySize <= 10240)
  ) {
    return [];
  }
  return [`memorySize must be whole MiB from 128 to 10240, got ${memorySize}`];
}
