import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionEnvironment } from '../../shared/config';
import { functionIdentity } from './function-identity';
import { LAMBDA_DEFAULTS, OBSERVABILITY_ENVIRONMENT, REPO_ROOT } from './lambda-defaults';

/** The NodejsFunction props an orchestrator function may set beyond its own below. */
type PassedThrough = Omit<
  nodejs.NodejsFunctionProps,
  | 'entry'
  | 'handler'
  | 'role'
  | 'logGroup'
  | 'environment'
  | 'description'
  | 'timeout'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'runtime'
>;

export interface OrchestratorFunctionProps extends PassedThrough {
  /** The folder of the function's handler under functions/, e.g. `sweep`. */
  readonly folder: string;
  readonly description: string;
  readonly timeout: Duration;
  /** What the function parses at cold start: one of the writers in shared (e.g. `sweepEnvironment`). */
  readonly environment: FunctionEnvironment;
  /**
   * Construct ids of the function's log group and role, created beside it in the same scope (so
   * their logical ids do not depend on this construct), and the role's description.
   */
  readonly identity: { readonly logGroup: string; readonly role: string; readonly description: string };
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One of the orchestrator's functions, built the same way as every other: Node 24 on arm64 bundled
 * by the local esbuild (`LAMBDA_DEFAULTS`), its own log group and a role allowed only to write to
 * it (`functionIdentity`; callers add what the function needs), and the environment its handler
 * parses plus Powertools' service name and namespace and source maps.
 *
 * @example
 * const sweep = new OrchestratorFunction(this, 'Sweep', {
 *   folder: 'sweep',
 *   description: 'Scheduled sweep',
 *   timeout: Duration.minutes(5),
 *   environment: sweepEnvironment({ managedPrefixes }),
 *   identity: { logGroup: 'Logs', role: 'Role', description: 'Sweep function (no secret values)' },
 * });
 * sweep.role.addToPolicy(statement);
 */
export class OrchestratorFunction extends nodejs.NodejsFunction {
  declare readonly role: iam.Role;
  /** The function's own log group (Function's `logGroup` is the same group, typed as an interface). */
  readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: OrchestratorFunctionProps) {
    const { folder, environment, identity: ids, logRetention, ...functionProps } = props;
    const identity = functionIdentity(
      scope,
      { logGroup: ids.logGroup, role: ids.role },
      { description: ids.description, logRetention },
    );
    super(scope, id, {
      ...LAMBDA_DEFAULTS,
      entry: `${REPO_ROOT}functions/${folder}/handler.ts`,
      ...functionProps,
      role: identity.role,
      logGroup: identity.logGroup,
      environment: { ...environment, ...OBSERVABILITY_ENVIRONMENT },
    });
    this.functionLogGroup = identity.logGroup;
  }
}
