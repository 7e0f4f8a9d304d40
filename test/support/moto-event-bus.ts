/**
 * EventBridge rules evaluated by moto's EventBridge over HTTP: the buses of a chosen account and
 * region (the default bus, or a custom one a rule names), the synthesized rules installed on them
 * delivering to one SQS queue, and a count of deliveries.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../harness/moto-server';

/** An account's buses in one region holding installed rules, and the queue they all deliver to. */
export interface MotoBus {
  readonly eventbridge: EventBridgeClient;
  readonly sqs: SQSClient;
  queueUrl: string;
}

/**
 * Clients acting as `account` in `region` moto (its `x-moto-account-id` header). moto stamps a put
 * event with the account and region of the bus it is put on, so an event from another account (or
 * region) is one put on that account's (or region's) bus.
 */
export function motoBus(endpoint: string, account: string, region: string = LOCAL_AWS.region): MotoBus {
  const config = { endpoint, region, credentials: LOCAL_AWS.credentials };
  const eventbridge = new EventBridgeClient(config);
  const sqs = new SQSClient(config);
  const actAs = (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
    (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account;
    return next(args);
  };
  eventbridge.middlewareStack.add(actAs as never, { step: 'build' });
  sqs.middlewareStack.add(actAs as never, { step: 'build' });
  return { eventbridge, sqs, queueUrl: '' };
}

/** A rule to install: its name, event pattern and bus (a custom bus is created first). @default the default bus */
export interface InstalledRule {
  readonly name: string;
  readonly pattern: unknown;
  readonly eventBusName?: string;
}

/** Puts rules on their buses, each delivering to one new queue named `queueName`. */
export async function installRules(
  bus: MotoBus,
  queueName: string,
  rules: readonly InstalledRule[],
): Promise<void> {
  bus.queueUrl = (await bus.sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl ?? '';
  const queueArn = (
    await bus.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: bus.queueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes?.QueueArn;
  const created = new Set<string>();
  for (const { name, pattern, eventBusName } of rules) {
    if (eventBusName && !created.has(eventBusName)) {
      await bus.eventbridge.send(new CreateEventBusCommand({ Name: eventBusName }));
      created.add(eventBusName);
    }
    await bus.eventbridge.send(
      new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), EventBusName: eventBusName }),
    );
    await bus.eventbridge.send(
      new PutTargetsCommand({
        Rule: name,
        EventBusName: eventBusName,
        Targets: [{ Id: 'queue', Arn: queueArn }],
      }),
    );
  }
}

/** Sends one event (on the bus its `EventBusName` names, else the default bus) and returns how many deliveries reached the queue. */
export async function deliveries(bus: MotoBus, entry: Record<string, unknown>): Promise<number> {
  await bus.eventbridge.send(new PutEventsCommand({ Entries: [entry] }));
  let count = 0;
  for (;;) {
    const out = await bus.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: bus.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return count;
    count += out.Messages.length;
  }
}
