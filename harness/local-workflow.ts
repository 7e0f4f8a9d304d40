/**
 * Runs the propagation workflow's synthesized definition locally with aws-local-stepfunctions, the
 * way Step Functions would: the definition comes from the cloud assembly's template, every Lambda
 * Task state is bound to a bundled handler (see bundle-host.ts), the SNS task publishes to moto,
 * and execution names are unique as in Step Functions (a second start of a name is refused).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import type { ExecutionStarter } from '../shared/workflow/start-propagation';
import type { WorkflowInput } from '../shared/workflow/workflow-state';
import { LOCAL_AWS } from './moto-server';

type Token = string | { 'Fn::GetAtt'?: [string, string]; Ref?: string; 'Fn::Join'?: [string, Token[]] };
interface Template {
  readonly Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The one state machine's ASL, its Fn::Join resolved with `resolve` (logical id → ARN). */
export function definitionFromTemplate(
  template: Template,
  resolve: (token: { logicalId: string; attribute?: string }) => string,
): { definition: Record<string, unknown>; logicalId: string } {
  const machines = Object.entries(template.Resources).filter(
    ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const [logicalId, resource] = machines[0] as unknown as [
    string,
    { Properties: { DefinitionString: Token } },
  ];
  const render = (token: Token): string => {
    if (typeof token === 'string') return token;
    if (token['Fn::Join']) return token['Fn::Join'][1].map(render).join(token['Fn::Join'][0]);
    if (token['Fn::GetAtt'])
      return resolve({ logicalId: token['Fn::GetAtt'][0], attribute: token['Fn::GetAtt'][1] });
    if (token.Ref) return resolve({ logicalId: token.Ref });
    throw new Error(`cannot resolve ${JSON.stringify(token)}`);
  };
  return { definition: JSON.parse(render(resource.Properties.DefinitionString)), logicalId };
}

interface StateDefinition {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly ItemProcessor?: { readonly StartAt: string; readonly States: Record<string, StateDefinition> };
}

/** The Task states that invoke Lambda functions, by state name → function ARN (Map iterations included). */
export function lambdaTaskStates(definition: Record<string, unknown>): Map<string, string> {
  const found = new Map<string, string>();
  walkStates(definition.States as Record<string, StateDefinition>, (name, state) => {
    if (state.Type === 'Task' && String(state.Resource).startsWith('arn:aws:lambda:'))
      found.set(name, String(state.Resource));
  });
  return found;
}

function walkStates(
  states: Record<string, StateDefinition>,
  visit: (name: string, state: StateDefinition) => void,
) {
  for (const [name, state] of Object.entries(states)) {
    visit(name, state);
    if (state.ItemProcessor) walkStates(state.ItemProcessor.States, visit);
  }
}

/**
 * Step Functions stops a Map whose iteration failed: iterations not yet begun never begin.
 * aws-local-stepfunctions keeps starting queued iterations, so this emulates the rule: once a state
 * inside a Map throws an error its Retry does not cover, that Map's StartAt state refuses to run.
 */
function mapStopper(definition: Record<string, unknown>) {
  const mapOf = new Map<string, { map: string; startAt: string }>();
  const retried = new Map<string, Set<string>>();
  walkStates(definition.States as Record<string, StateDefinition>, (name, state) => {
    retried.set(name, new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals)));
    if (state.ItemProcessor) {
      for (const inner of Object.keys(state.ItemProcessor.States)) {
        mapOf.set(inner, { map: name, startAt: state.ItemProcessor.StartAt });
      }
    }
  });
  const stopped = new Set<string>();
  return (state: string, handler: (input: unknown) => Promise<unknown>) => async (input: unknown) => {
    const map = mapOf.get(state);
    if (map && map.startAt === state && stopped.has(map.map)) {
      throw Object.assign(new Error(`Map ${map.map} has stopped: an iteration failed`), {
        name: 'States.Cancelled',
      });
    }
    try {
      return await handler(input);
    } catch (error) {
      const name = (error as Error).name;
      const retries = retried.get(state);
      if (map && !retries?.has(name) && !retries?.has('States.ALL')) stopped.add(map.map);
      throw error;
    }
  };
}

export interface LocalExecution {
  readonly name: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** State names in the order they were entered (Map iterations interleave). */
  readonly states: readonly string[];
  /** The input of the Fail state the execution ended in: what the workflow knew about the failure. */
  readonly failedWith?: unknown;
  /**
   * The events Step Functions would put in this execution's history, estimated from the local
   * run's events (see {@link historyEventsOf}); Step Functions stops an execution at 25,000.
   */
  readonly historyEvents: number;
  /** The largest input or output of any state (and the execution's), as JSON bytes; the quota is 256 KiB. */
  readonly largestState: { readonly bytes: number; readonly state: string };
}

/**
 * What one local event stands for in a Standard execution's history. The local interpreter logs a
 * state's entry and exit, retries, catches and Map iterations; Step Functions also logs, for each
 * attempt of a Lambda Task, LambdaFunctionScheduled, LambdaFunctionStarted and its outcome, and for
 * a Map its MapStateStarted and MapStateSucceeded/Failed. So a Task entry or retry counts 1 + 3
 * here and a Map entry 1 + 2: a slight over-estimate (a Fail state logs no exit), never an under-one.
 */
export function historyEventsOf(event: { type: string; state?: { type: string } }): number {
  if (event.type === 'StateEntered' && event.state?.type === 'Task') return 4;
  if (event.type === 'StateRetried' && event.state?.type === 'Task') return 4;
  if (event.type === 'StateEntered' && event.state?.type === 'Map') return 3;
  return 1;
}

const jsonBytes = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

export interface LocalWorkflowOptions {
  /** Invokes the function with this ARN (a bundle host in tests and the demo). */
  readonly invokeLambda: (functionArn: string, payload: unknown) => Promise<unknown>;
  /** moto's endpoint, for the SNS task. */
  readonly awsEndpoint: string;
  /** Replaces the SNS publish (unit tests of the definition's paths). @default publish to moto */
  readonly publishAlert?: (input: {
    TopicArn: string;
    Subject?: string;
    Message: string;
  }) => Promise<unknown>;
  /** Wait state durations in milliseconds, e.g. shorter polls. @default as defined */
  readonly waitOverrides?: Record<string, number>;
  /** Pause before each retry, in milliseconds. @default 100 */
  readonly retryPauseMs?: number;
  readonly onState?: (name: string, type: string) => void;
}

/** Executions of one definition, started by name like Step Functions (also an ExecutionStarter). */
export class LocalWorkflow implements ExecutionStarter {
  private readonly machine: StateMachine;
  private readonly names = new Set<string>();
  private readonly sns: SNSClient;
  readonly executions = new Map<string, Promise<LocalExecution>>();

  constructor(
    private readonly definition: Record<string, unknown>,
    private readonly options: LocalWorkflowOptions,
  ) {
    this.machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    this.sns = new SNSClient({
      endpoint: options.awsEndpoint,
      region: LOCAL_AWS.region,
      credentials: LOCAL_AWS.credentials,
    });
  }

  /** As StartExecution: a name already used is refused (ExecutionAlreadyExists). */
  async start(
    name: string,
    input: WorkflowInput,
  ): Promise<{ executionArn: string; alreadyStarted: boolean }> {
    const executionArn = `arn:aws:states:${LOCAL_AWS.region}:123456789012:execution:local:${name}`;
    if (this.names.has(name)) return { executionArn, alreadyStarted: true };
    this.executions.set(name, this.run(name, input));
    return { executionArn, alreadyStarted: false };
  }

  /** Whether an execution of this name was started (names are unique, as in Step Functions). */
  hasRun(name: string): boolean {
    return this.names.has(name);
  }

  /** Runs one execution to its end. */
  async run(name: string, input: unknown): Promise<LocalExecution> {
    if (this.names.has(name))
      throw Object.assign(new Error(`Execution ${name} already exists`), { name: 'ExecutionAlreadyExists' });
    this.names.add(name);
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const stopping = mapStopper(this.definition);
    for (const [state, arn] of lambdaTaskStates(this.definition)) {
      handlers[state] = stopping(state, (payload) => this.options.invokeLambda(arn, payload));
    }
    handlers.Alert = (payload) => {
      const input = payload as { TopicArn: string; Subject?: string; Message: string };
      return this.options.publishAlert ? this.options.publishAlert(input) : this.publish(input);
    };
    const retryOverrides = Object.fromEntries(
      Object.keys(handlers).map((state) => [state, this.options.retryPauseMs ?? 100]),
    );
    const execution = this.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: this.options.waitOverrides,
        retryIntervalOverrides: retryOverrides,
      },
      context: { Execution: { Id: `local:${name}`, Name: name } } as never,
    });
    const states: string[] = [];
    let failedWith: unknown;
    let historyEvents = 0;
    let largestState = { bytes: jsonBytes(input), state: '(execution input)' };
    const watching = (async () => {
      for await (const event of execution.eventLogs) {
        historyEvents += historyEventsOf(event);
        if ('state' in event && (event.type === 'StateEntered' || event.type === 'StateExited')) {
          const bytes = jsonBytes(event.type === 'StateEntered' ? event.state.input : event.state.output);
          if (bytes > largestState.bytes) largestState = { bytes, state: event.state.name };
        }
        if (event.type === 'StateEntered') {
          states.push(event.state.name);
          if (event.state.type === 'Fail') failedWith = event.state.input;
          this.options.onState?.(event.state.name, event.state.type);
        }
      }
    })();
    try {
      const output = await execution.result;
      await watching;
      return { name, status: 'SUCCEEDED', output, states, historyEvents, largestState };
    } catch (error) {
      await watching.catch(() => undefined);
      const cause = (error as { cause?: Error }).cause ?? (error as Error);
      return {
        name,
        status: 'FAILED',
        error: { name: cause.name, message: cause.message },
        states,
        failedWith,
        historyEvents,
        largestState,
      };
    }
  }

  private async publish(input: { TopicArn: string; Subject?: string; Message: string }) {
    const out = await this.sns.send(new PublishCommand(input));
    return { MessageId: out.MessageId };
  }
}
