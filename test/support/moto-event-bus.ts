/**
 * EventBridge rules evaluated by moto's EventBridge over HTTP: a default bus in a chosen account,
 * the synthesized rules installed on it delivering to one SQS queue, and a count of deliveries.
 */
import {
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
import { LOCAL_AWS } from '../../scripts/local/moto-server';

/** A default bus holding installed rules, and the queue they all deliver to. */
export interface MotoBus {
  readonly eventbridge: EventBridgeClient;
  readonly sqs: SQSClient;
  queueUrl: string;
}

/**
 * Clients acting as `account` in moto (its `x-moto-account-id` header). moto stamps a put event with
 * the account of the bus it is put on, so an event from another account is one put on that account's bus.
 */
export function motoBus(endpoint: string, account: string): MotoBus {
  const config = { endpoint, region: LOCAL_AWS.region, credentials: LOCAL_AWS.credentials };
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

/** Puts rules (name → event pattern) on the bus, each delivering to one new queue named `queueName`. */
export async function installRules(
  bus: MotoBus,
  queueName: string,
  rules: readonly { readonly name: string; readonly pattern: unknown }[],
): Promise<void> {
  bus.queueUrl = (await bus.sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl ?? '';
  const queueArn = (
    await bus.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: bus.queueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes?.QueueArn;
  for (const rule of rules) {
    await bus.eventbridge.send(
      new PutRuleCommand({ Name: rule.name, EventPattern: JSON.stringify(rule.pattern) }),
    );
    await bus.eventbridge.send(
      new PutTargetsCommand({ Rule: rule.name, Targets: [{ Id: 'queue', Arn: queueArn }] }),
    );
  }
}

/** Sends one event on the bus and returns how many deliveries reached its queue. */
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
