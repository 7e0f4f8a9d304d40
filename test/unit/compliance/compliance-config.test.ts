import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';
import { OrchestratorStack } from '../../../infra/lib/orchestrator-stack';
import { loadMaxAgeRules, maxAgeEnvironment } from '../../../shared/compliance/compliance-config';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'));
const BASE = { managedPrefixes: ['prod/app-team/', 'staging/app-team/'] };

describe('orchestrator.compliance in cdk.json', () => {
  it('parses the sample cdk.json, and the CLI reads its maxAge unchanged from ROTATOR_MAX_AGE_RULES', () => {
    const config = parseDeploymentConfig(CDK_JSON.context.orchestrator);
    expect(config.compliance).toEqual({
      maxAge: [{ prefix: 'prod/app-team/', days: 90 }],
      defaultMaxAgeDays: 365,
      freshnessObjectiveMinutes: 60,
    });
    const rules = {
      rules: config.compliance?.maxAge ?? [],
      defaultDays: config.compliance?.defaultMaxAgeDays,
    };
    expect(loadMaxAgeRules(maxAgeEnvironment(rules), config.managedPrefixes)).toEqual(rules);
  });

  it('defaults the freshness objective to an hour and the rules to none', () => {
    expect(parseDeploymentConfig({ ...BASE, compliance: {} }).compliance).toEqual({
      maxAge: [],
      freshnessObjectiveMinutes: 60,
    });
    expect(parseDeploymentConfig(BASE).compliance).toBeUndefined();
  });

  it.each([
    [
      { maxAge: [{ prefix: 'other/', days: 30 }] },
      'orchestrator.compliance.maxAge.0.prefix: "other/" is not within a managed prefix',
    ],
    [
      {
        maxAge: [
          { prefix: 'prod/app-team/', days: 30 },
          { prefix: 'prod/app-team/', days: 60 },
        ],
      },
      'orchestrator.compliance.maxAge.1.prefix: "prod/app-team/" is given twice',
    ],
    [{ maxAge: [{ prefix: 'prod/app-team/', days: 0 }] }, 'orchestrator.compliance.maxAge.0.days'],
    [{ defaultMaxAgeDays: 5000 }, 'orchestrator.compliance.defaultMaxAgeDays'],
    [{ freshnessObjectiveMinutes: 0 }, 'orchestrator.compliance.freshnessObjectiveMinutes'],
    [{ maxAgeDays: 30 }, 'orchestrator.compliance'],
  ])('refuses %j, naming the field', (compliance, problem) => {
    expect(() => parseDeploymentConfig({ ...BASE, compliance })).toThrow(problem);
  });

  it('sets the PropagationFreshness alarm to the configured objective', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = parseDeploymentConfig({ ...BASE, compliance: { freshnessObjectiveMinutes: 15 } });
    const stack = new OrchestratorStack(app, 'Orchestrator', { config });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PropagationFreshness',
      Threshold: 900,
    });
  });
});
