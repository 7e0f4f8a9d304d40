import { Sha256Node } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Presigned URLs live 60 s, as `aws eks get-token` makes them; EKS accepts the token for 15 min. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** `aws eks get-token` reports expiry 14 min after signing; we do the same. */
export const EKS_TOKEN_LIFETIME_MS = 14 * 60_000;
/** A cached token is replaced this long before it expires. */
const REFRESH_BEFORE_EXPIRY_MS = 60_000;

// The order botocore writes the query in, so tokens match `aws eks get-token` byte for byte.
const QUERY_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
] as const;

export interface EksToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * Builds the bearer token EKS accepts, exactly as `aws eks get-token` does: a presigned STS
 * GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster>`, as
 * `k8s-aws-v1.` + base64url without padding.
 * @example await createEksToken({ clusterName: 'prod', region: 'eu-west-1', credentials })
 */
export async function createEksToken(input: {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly now?: Date;
}): Promise<EksToken> {
  const now = input.now ?? new Date();
  const hostname = `sts.${input.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: 'sts',
    sha256: Sha256Node,
    uriEscapePath: true,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': input.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: now });
  const query = QUERY_ORDER.flatMap((key) => {
    const value = signed.query?.[key];
    return typeof value === 'string' ? [`${key}=${encodeRfc3986(value)}`] : [];
  });
  const url = `https://${hostname}/?${query.join('&')}`;
  return {
    token: `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`,
    expiresAt: new Date(now.getTime() + EKS_TOKEN_LIFETIME_MS),
  };
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Keeps one token per cluster and replaces it a minute before it expires. */
export class EksTokenCache {
  private readonly tokens = new Map<string, EksToken>();

  constructor(
    private readonly region: string,
    private readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async tokenFor(clusterName: string): Promise<string> {
    const now = this.clock();
    const cached = this.tokens.get(clusterName);
    if (cached && cached.expiresAt.getTime() - now.getTime() > REFRESH_BEFORE_EXPIRY_MS) return cached.token;
    const fresh = await createEksToken({
      clusterName,
      region: this.region,
      credentials: this.credentials,
      now,
    });
    this.tokens.set(clusterName, fresh);
    return fresh.token;
  }
}
