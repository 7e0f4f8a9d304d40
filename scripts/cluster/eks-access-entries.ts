import { readFile } from 'node:fs/promises';
import * as z from '../../shared/schema';

/**
 * The local EKS authenticator's configuration: which cluster it speaks for, the local STS (moto),
 * the signing keys STS would know, and EKS access entries (IAM principal → Kubernetes groups).
 */
const authenticatorConfigSchema = z.object({
  /** The name tokens must sign in `x-k8s-aws-id`, as in CreateCluster. */
  clusterName: z.string().check(z.minLength(1)),
  /** Where GetCallerIdentity goes instead of sts.<region>.amazonaws.com. */
  stsEndpoint: z.url(),
  /** Access key → secret key, for the signature check STS makes and moto does not. */
  signingKeys: z.array(
    z.object({
      accessKeyId: z.string().check(z.minLength(1)),
      secretAccessKey: z.string().check(z.minLength(1)),
    }),
  ),
  accessEntries: z.array(
    z.object({
      /** An IAM role or user ARN; an assumed-role session maps through its role, as in EKS. */
      principalArn: z.string().check(z.startsWith('arn:')),
      /** Default: the caller's ARN, as EKS names users of access entries. */
      username: z.optional(z.string().check(z.minLength(1))),
      groups: z.array(z.string().check(z.minLength(1))),
    }),
  ),
});

export type AuthenticatorConfig = z.infer<typeof authenticatorConfigSchema>;
export type AccessEntry = AuthenticatorConfig['accessEntries'][number];

/** Reads the configuration file; read per request, so editing it takes effect at once. */
export async function readAuthenticatorConfig(path: string): Promise<AuthenticatorConfig> {
  const parsed = authenticatorConfigSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `invalid authenticator config ${path}: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  return parsed.data;
}

/** What STS GetCallerIdentity says about the signer. */
export interface CallerIdentity {
  readonly arn: string;
  readonly account: string;
  readonly userId: string;
}

/** A TokenReview's `status.user`. */
export interface KubernetesUser {
  readonly username: string;
  readonly uid: string;
  readonly groups: string[];
  readonly extra: Record<string, string[]>;
}

/**
 * The ARN an access entry is matched on, as EKS and aws-iam-authenticator canonicalize it: an STS
 * assumed-role session `arn:aws:sts::111122223333:assumed-role/Name/session` becomes the role
 * `arn:aws:iam::111122223333:role/Name` (a role's path is not part of a session ARN, so it is
 * dropped from role ARNs too); anything else is compared as is.
 * @example canonicalPrincipalArn('arn:aws:sts::1:assumed-role/R/s') // 'arn:aws:iam::1:role/R'
 */
export function canonicalPrincipalArn(arn: string): string {
  const [prefix, partition, service, , account, resource = ''] = arn.split(':');
  if (prefix !== 'arn' || !partition || !account) return arn;
  const parts = resource.split('/');
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length >= 3) {
    return `arn:${partition}:iam::${account}:role/${parts[1]}`;
  }
  if (service === 'iam' && parts[0] === 'role' && parts.length > 2) {
    return `arn:${partition}:iam::${account}:role/${parts.at(-1)}`;
  }
  return arn;
}

/** The Kubernetes user an identity maps to through the access entries, or undefined if none. */
export function kubernetesUserFor(
  identity: CallerIdentity,
  accessKeyId: string,
  entries: readonly AccessEntry[],
): KubernetesUser | undefined {
  const canonical = canonicalPrincipalArn(identity.arn);
  const entry = entries.find((e) => canonicalPrincipalArn(e.principalArn) === canonical);
  if (!entry) return undefined;
  const [, sessionName] = identity.userId.split(':');
  return {
    username: entry.username ?? identity.arn,
    uid: `aws-iam-authenticator:${identity.account}:${identity.userId}`,
    groups: [...entry.groups],
    extra: {
      arn: [identity.arn],
      canonicalArn: [canonical],
      accessKeyId: [accessKeyId],
      ...(sessionName ? { sessionName: [sessionName] } : {}),
    },
  };
}
