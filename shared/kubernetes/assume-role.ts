import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { toAwsCallError } from '../errors';

/** The session the step opens in a target account; its name shows in that account's CloudTrail. */
export const ASSUME_ROLE_SESSION_NAME = 'secret-rotation-orchestrator';
/** Role chaining (a Lambda's role assuming another) allows at most one hour. */
const SESSION_SECONDS = 3600;
/**
 * Credentials are replaced this long before they expire: longer than an EKS token lives (14 min,
 * eks-token.ts), so no token outlives the session that signed it.
 */
export const RENEW_BEFORE_EXPIRY_MS = 15 * 60_000;

export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly externalId?: string | undefined;
}

/** Temporary credentials with their expiry, as STS AssumeRole returns them. */
export type AssumedCredentials = AwsCredentialIdentity & { readonly expiration: Date };

/** The one STS call the step makes. */
export type AssumeRole = (request: AssumeRoleRequest) => Promise<AssumedCredentials>;

/**
 * STS AssumeRole through a client created on the first call: @aws-sdk/client-sts loads only when a
 * cluster names a role, so a deployment without one never evaluates it on a cold start.
 * A refusal (a trust policy without this principal or external id) is an AwsCallError
 * (`operation: 'AssumeRole'`, `awsErrorName: 'AccessDenied'`), never retried as transient.
 * @example const assumeRole = stsAssumeRole(AWS_CLIENT_OPTIONS)
 */
export function stsAssumeRole(clientOptions: object): AssumeRole {
  let sts: Promise<{ send: (request: AssumeRoleRequest) => Promise<AssumedCredentials> }> | undefined;
  const load = async () => {
    const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/client-sts');
    const client = new STSClient(clientOptions);
    return {
      send: async ({ roleArn, externalId }: AssumeRoleRequest) => {
        const { Credentials: c } = await client.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: ASSUME_ROLE_SESSION_NAME,
            DurationSeconds: SESSION_SECONDS,
            ...(externalId === undefined ? {} : { ExternalId: externalId }),
          }),
        );
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.Expiration) {
          throw new Error('STS returned no credentials');
        }
        return {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          expiration: c.Expiration,
        };
      },
    };
  };
  return async (request) => {
    try {
      sts ??= load();
      return await (await sts).send(request);
    } catch (error) {
      throw toAwsCallError('AssumeRole', request.roleArn, error);
    }
  };
}

/**
 * A credential provider for one role: assumed on first use, kept, and assumed again once fewer
 * than {@link RENEW_BEFORE_EXPIRY_MS} remain. A failure is not kept: the next call asks STS again.
 * @example new EKSClient({ region, credentials: assumedRoleCredentials(assumeRole, { roleArn, externalId }) })
 */
export function assumedRoleCredentials(
  assumeRole: AssumeRole,
  request: AssumeRoleRequest,
  clock: () => Date = () => new Date(),
): AwsCredentialIdentityProvider {
  let current: Promise<AssumedCredentials> | undefined;
  const fresh = () => {
    const attempt = assumeRole(request);
    current = attempt;
    attempt.catch(() => {
      if (current === attempt) current = undefined;
    });
    return attempt;
  };
  return async () => {
    const pending = current ?? fresh();
    const held = await pending;
    if (held.expiration.getTime() - clock().getTime() > RENEW_BEFORE_EXPIRY_MS) return held;
    // Renewed once, however many calls find the session near its end at the same time.
    return current === pending || current === undefined ? fresh() : current;
  };
}
