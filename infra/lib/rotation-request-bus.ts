import { Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface RotationRequestBusProps {
  /**
   * IAM principals (role or user ARNs, matched exactly against `aws:PrincipalArn`; a role's
   * sessions match their role) that may put events on the bus. Everyone else is denied, also in
   * this account and whatever their identity policies allow. @default [] — nobody
   */
  readonly principals: readonly string[];
  /** @default a unique name generated from the construct path */
  readonly eventBusName?: string;
}

/**
 * The event bus rotation requests arrive on, and nothing else: a custom bus whose resource policy
 * allows `events:PutEvents` to the named principals and denies it to every other principal, so
 * that an identity policy with `events:PutEvents` on `*` (an admin, CI, a power user) does not
 * reach it. The policy is set on the bus itself, so the bus never exists without it.
 */
export class RotationRequestBus extends Construct {
  readonly bus: events.EventBus;
  /** The bus's resource policy, as deployed. */
  readonly policy: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: RotationRequestBusProps) {
    super(scope, id);
    const eventBusName = props.eventBusName ?? Names.uniqueResourceName(this, { maxLength: 256 });
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName,
      description: 'Secret rotation requests: only the named principals may put events here',
    });
    const busArn = Stack.of(this).formatArn({
      service: 'events',
      resource: 'event-bus',
      resourceName: eventBusName,
    });
    this.policy = requestBusPolicy(busArn, props.principals);
    (this.bus.node.defaultChild as events.CfnEventBus).policy = this.policy.toJSON();
  }
}

/**
 * The bus policy: an Allow for the named principals (none: no Allow) and a Deny for every principal
 * not named. A resource policy's Allow alone would not do: in the same account an identity policy
 * that allows the action is enough, so only the explicit Deny keeps other principals out.
 */
export function requestBusPolicy(busArn: string, principals: readonly string[]): iam.PolicyDocument {
  const named = [...new Set(principals)];
  const statements = [
    new iam.PolicyStatement({
      sid: 'DenyPutEventsToUnnamedPrincipals',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [busArn],
      ...(named.length > 0 ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': named } } } : {}),
    }),
  ];
  if (named.length > 0) {
    statements.unshift(
      new iam.PolicyStatement({
        sid: 'AllowPutEventsToNamedPrincipals',
        principals: named.map((arn) => new iam.ArnPrincipal(arn)),
        actions: ['events:PutEvents'],
        resources: [busArn],
      }),
    );
  }
  return new iam.PolicyDocument({ statements });
}
