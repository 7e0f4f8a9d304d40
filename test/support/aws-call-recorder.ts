import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseDeploymentConfig } from '../../infra/lib/deployment-config';
import { OrchestratorStack } from '../../infra/lib/orchestrator-stack';
import { rolePolicyDocuments } from './policy-documents';
import { simulatedDecision } from './policy-simulation';
import { TEST_ENV } from './synth-stack';

/** One command a client sent, as the SDK named it (`context.commandName`), with its input. */
export interface SentCommand {
  readonly service: 'secretsmanager' | 'dynamodb' | 'states';
  readonly commandName: string;
  readonly input: Readonly<Record<string, unknown>>;
}

const CLIENTS = [
  ['secretsmanager', SecretsManagerClient],
  ['dynamodb', DynamoDBClient],
  ['states', SFNClient],
] as const;

/**
 * Records every command that any Secrets Manager, DynamoDB or Step Functions client sends while
 * `during` runs, including the clients a function's handler builds for itself (the SDK packages are
 * not re-imported by vi.resetModules, so the handler's classes are these). A middleware on each
 * command reads `context.commandName` and the input as the SDK resolved them.
 */
export function recordSentCommands() {
  const sent: SentCommand[] = [];
  let recording = false;
  for (const [service, Client] of CLIENTS) {
    const send = Client.prototype.send as (this: unknown, ...args: unknown[]) => unknown;
    Object.defineProperty(Client.prototype, 'send', {
      configurable: true,
      value(
        this: unknown,
        command: { middlewareStack: { add: (...args: unknown[]) => void } },
        ...rest: unknown[]
      ) {
        if (recording) {
          command.middlewareStack.add(
            (next: (args: unknown) => unknown, context: { commandName?: string }) =>
              (args: { input: Record<string, unknown> }) => {
                sent.push({ service, commandName: context.commandName ?? 'unknown', input: args.input });
                return next(args);
              },
            { step: 'initialize', name: 'recordSentCommand' },
          );
        }
        return send.call(this, command, ...rest);
      },
    });
  }
  return {
    sent,
    async during<T>(act: () => Promise<T>): Promise<T> {
      recording = true;
      try {
        return await act();
      } finally {
        recording = false;
      }
    },
    restore() {
      for (const [, Client] of CLIENTS) Reflect.deleteProperty(Client.prototype, 'send');
    },
  };
}

/** How the moto world of a test maps onto the synthesized stack. */
export interface WorldMapping {
  /** Secret ARN of a name or ARN the code sent (e.g. from moto's DescribeSecret). */
  readonly secretArn: (secretId: string) => Promise<string>;
  /** The synthesized rotation function that rotates a secret, or undefined for none. */
  readonly rotatedBy: (secretArn: string) => string | undefined;
  /** The synthesized ARN of a table (by name), state machine or function (by ARN) the test made in moto. */
  readonly resourceArn: (nameOrArn: string) => string;
}

/** One request as IAM authorizes it. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

const SECRET_ACTIONS_WITHOUT_RESOURCE = new Set(['ListSecrets', 'GetRandomPassword']);

/** The IAM request each sent command is authorized as, with the context keys its input sets. */
export async function iamRequestsOf(
  sent: readonly SentCommand[],
  world: WorldMapping,
): Promise<IamRequest[]> {
  const requests = await Promise.all(sent.map((command) => iamRequestOf(command, world)));
  const unique = new Map(requests.map((request) => [describeRequest(request), request]));
  return [...unique.values()];
}

async function iamRequestOf(command: SentCommand, world: WorldMapping): Promise<IamRequest> {
  const name = command.commandName.replace(/Command$/, '');
  const action = `${command.service}:${name}`;
  const input = command.input;
  if (command.service === 'dynamodb') {
    const table = String(input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? '');
    const tableArn = world.resourceArn(table);
    const resource = input.IndexName ? `${tableArn}/index/${String(input.IndexName)}` : tableArn;
    return { action, resource, context: {} };
  }
  if (command.service === 'states') {
    return { action, resource: world.resourceArn(String(input.stateMachineArn)), context: {} };
  }
  if (SECRET_ACTIONS_WITHOUT_RESOURCE.has(name)) return { action, resource: '*', context: {} };
  const resource = await world.secretArn(String(input.SecretId));
  const rotatedBy = world.rotatedBy(resource);
  const keys: Record<string, unknown> = {
    // An ARN as the deployed world names it (a test may map moto's names onto the stack's).
    'secretsmanager:SecretId': String(input.SecretId).startsWith('arn:') ? resource : String(input.SecretId),
    'secretsmanager:resource/AllowRotationLambdaArn': rotatedBy,
    'secretsmanager:VersionStage': input.VersionStage,
    'secretsmanager:VersionId': name === 'GetSecretValue' ? input.VersionId : undefined,
    'secretsmanager:RotationLambdaARN':
      input.RotationLambdaARN === undefined ? undefined : world.resourceArn(String(input.RotationLambdaARN)),
    'secretsmanager:RotateImmediately': input.RotateImmediately,
    'secretsmanager:ModifyRotationRules': input.RotationRules === undefined ? undefined : true,
  };
  const context = Object.fromEntries(
    Object.entries(keys).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])),
  );
  return { action, resource, context };
}

/** `action resource {context}`, for messages and table keys. */
export function describeRequest(request: IamRequest): string {
  return `${request.action} ${request.resource} ${JSON.stringify(request.context)}`;
}

/** A moto secret's ARN from a name or ARN, read with a client whose calls are not recorded. */
export function motoSecretArns(client: SecretsManagerClient) {
  const known = new Map<string, Promise<string>>();
  return (secretId: string) => {
    if (secretId.startsWith('arn:')) return Promise.resolve(secretId);
    const arn =
      known.get(secretId) ??
      client.send(new DescribeSecretCommand({ SecretId: secretId })).then((out) => out.ARN ?? secretId);
    known.set(secretId, arn);
    return arn;
  };
}

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

/** CloudFormation's Ref and Arn of a resource of each type, in the test account and region. */
function refsOf(id: string, type: string): Record<string, string> {
  const at = `${TEST_ENV.region}:${TEST_ENV.account}`;
  const arn = (service: string, rest: string) => `arn:aws:${service}:${at}:${rest}`;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return { [id]: id, [`${id}.Arn`]: arn('dynamodb', `table/${id}`) };
    case 'AWS::Lambda::Function':
      return { [id]: id, [`${id}.Arn`]: arn('lambda', `function:${id}`) };
    case 'AWS::StepFunctions::StateMachine':
      return { [id]: arn('states', `stateMachine:${id}`) };
    case 'AWS::Logs::LogGroup':
      return { [id]: id, [`${id}.Arn`]: `${arn('logs', `log-group:${id}`)}:*` };
    default:
      return { [id]: arn(type.split('::')[1]?.toLowerCase() ?? 'unknown', id) };
  }
}

/**
 * The stack as cdk.json deploys it (propagation, notifications, database rotation) plus an emergency
 * principal and `overrides` (top-level keys of cdk.json's `orchestrator`), in the test account and
 * region, and every Ref and Arn its policies can name.
 */
export function synthDeployedStack(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseDeploymentConfig({
    ...CDK_JSON.context.orchestrator,
    emergencyPrincipals: [`arn:aws:iam::${TEST_ENV.account}:role/incident-responder`],
    ...overrides,
  });
  const stack = new OrchestratorStack(app, 'Stack', { config, env: TEST_ENV });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const refs: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': TEST_ENV.account,
    'AWS::Region': TEST_ENV.region,
    'AWS::URLSuffix': 'amazonaws.com',
    ...Object.assign({}, ...Object.entries(resources).map(([id, r]) => refsOf(id, r.Type))),
  };
  /** The synthesized Ref (or, with `.Arn`, the ARN) of a construct's CloudFormation resource. */
  const arnOf = (construct: { node: { defaultChild?: unknown } }, attribute = '.Arn') => {
    const id = stack.getLogicalId(construct.node.defaultChild as never);
    return refs[`${id}${attribute}`] ?? refs[id] ?? '';
  };
  return { stack, template, refs, arnOf };
}

/**
 * The simulator's decision for each request against the identity policies of the role whose
 * logical id matches `rolePattern`, keyed by {@link describeRequest}.
 */
export async function decisionsFor(
  deployed: ReturnType<typeof synthDeployedStack>,
  rolePattern: RegExp,
  requests: readonly IamRequest[],
): Promise<Record<string, string>> {
  const policies = rolePolicyDocuments(deployed.template, rolePattern, deployed.refs);
  if (policies.length === 0) throw new Error(`no policy names a role matching ${rolePattern}`);
  const decisions = await Promise.all(
    requests.map(async (request) => [
      describeRequest(request),
      await simulatedDecision({
        identityPolicies: policies,
        principal: `arn:aws:iam::${TEST_ENV.account}:role/under-test`,
        action: request.action,
        resource: request.resource,
        accountId: TEST_ENV.account,
        context: request.context,
      }),
    ]),
  );
  return Object.fromEntries(decisions);
}

/** The distinct actions of some requests, sorted. */
export function actionsOf(requests: readonly IamRequest[]): string[] {
  return [...new Set(requests.map((request) => request.action))].sort();
}

/** What {@link decisionsFor} returns when every request is allowed. */
export function allAllowed(requests: readonly IamRequest[]): Record<string, string> {
  return Object.fromEntries(requests.map((request) => [describeRequest(request), 'Allowed']));
}
