import { describe, expect, it } from 'vitest';
import { synthLocalStack } from '../../../harness/local-stack';
import { definitionFromTemplate } from '../../../harness/local-workflow';

/**
 * A Task that stops waiting before its Lambda function's own timeout retries the call while the
 * first may still run: two restart calls side by side can restart a workload twice (review 56).
 */
const { template } = synthLocalStack(
  {
    managedPrefixes: ['prod/app-team/'],
    propagation: { clusterNames: ['c1'] },
    databaseRotation: { masterSecretArns: [], tlsByDefault: true },
  } as never,
  { bundle: false },
);
const { definition } = definitionFromTemplate(template, ({ logicalId }) =>
  template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
    ? 'arn:aws:sns:us-east-1:123456789012:alerts'
    : `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`,
);

interface State {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, State> };
  Iterator?: { States: Record<string, State> };
}

function lambdaTasks(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, state]) => [
    // payloadResponseOnly: the function's ARN is the Task's resource.
    ...(state.Type === 'Task' && /^arn:aws:lambda:[^:]+:\d+:function:\w+$/.test(state.Resource ?? '')
      ? [[name, state] as [string, State]]
      : []),
    ...lambdaTasks(state.ItemProcessor?.States ?? state.Iterator?.States ?? {}),
  ]);
}

describe('the workflow’s Lambda Tasks', () => {
  const tasks = lambdaTasks((definition as { States: Record<string, State> }).States);

  it('each wait longer than the function they invoke may run', () => {
    expect(tasks.length).toBeGreaterThan(10);
    for (const [name, task] of tasks) {
      const logicalId = String(task.Resource).split(':function:')[1] ?? '';
      const fn = template.Resources[logicalId] as { Type: string; Properties: { Timeout?: number } };
      expect(fn?.Type, `${name}: ${task.Resource}`).toBe('AWS::Lambda::Function');
      const functionTimeout = fn.Properties.Timeout ?? 3;
      expect(task.TimeoutSeconds, name).toBeGreaterThanOrEqual(functionTimeout + 30);
    }
  });
});
