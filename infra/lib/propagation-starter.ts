import { Duration } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { starterEnvironment } from '../../shared/workflow/starter-config';
import type { ClusterPropagationProps } from './cluster-propagation';
import { OrchestratorFunction } from './orchestrator-function';
import { DESCRIBE_REASON } from './propagation-steps';
import { allowOnManagedSecrets } from './rotation-function-policy';

/**
 * The starter the EventBridge rules target, in `scope` (a ClusterPropagation, so its ids are the
 * construct's own): describe managed secrets, read the ledger, start executions of `stateMachine`.
 */
export function propagationStarterFunction(
  scope: Construct,
  props: ClusterPropagationProps,
  stateMachine: sfn.IStateMachine,
): OrchestratorFunction {
  const fn = new OrchestratorFunction(scope, 'PropagateSecret', {
    folder: 'propagate-secret',
    identity: {
      logGroup: 'StarterLogs',
      role: 'StarterRole',
      description: 'Starts the propagation workflow for a new AWSCURRENT version (describe only)',
    },
    logRetention: props.logRetention,
    timeout: Duration.seconds(30),
    description: 'Starts one propagation workflow execution per secret version',
    environment: starterEnvironment({
      managedPrefixes: props.managedPrefixes,
      stateMachineArn: stateMachine.stateMachineArn,
      ledgerTableName: props.ledger.tableName,
    }),
  });
  allowOnManagedSecrets(scope, fn.role, {
    sid: 'DescribeManagedSecrets',
    actions: ['secretsmanager:DescribeSecret'],
    prefixes: props.managedPrefixes,
    reason: DESCRIBE_REASON,
  });
  stateMachine.grantStartExecution(fn.role);
  props.ledger.grantRead(fn.role);
  return fn;
}
