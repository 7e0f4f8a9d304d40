import { timingSafeEqual } from 'node:crypto';
import { Sha256Node } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The checks aws-iam-authenticator (pkg/token, Verify) makes on an EKS bearer token before it sends
 * the presigned GetCallerIdentity URL to STS, plus the one STS itself makes that moto does not: the
 * SigV4 signature, recomputed with `x-k8s-aws-id` set to this cluster's name. Without it a token
 * signed for another cluster would pass, since the cluster name is only in the signature.
 */

const TOKEN_PREFIX = 'k8s-aws-v1.';
/** aws-iam-authenticator refuses longer tokens. */
const MAX_TOKEN_LENGTH = 4096;
/** STS and aws-iam-authenticator accept a presigned URL for 15 minutes after X-Amz-Date. */
const PRESIGNED_URL_LIFETIME_MS = 15 * 60_000;
/** STS refuses a signature dated further ahead than this ("Signature not yet current"). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const STS_HOST = /^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;
const ALLOWED_PARAMETERS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** Why a token is not accepted; the message never contains the token. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/** A token that passed every local check: its URL and who signed it. */
export interface VerifiedEksToken {
  readonly url: URL;
  readonly accessKeyId: string;
}

export interface VerifyOptions {
  readonly clusterName: string;
  /** The secret key STS would use for an access key id; undefined if unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly now?: Date;
}

/**
 * Decodes and checks an EKS token as EKS does: a presigned `sts` GetCallerIdentity URL that signs
 * `x-k8s-aws-id: <clusterName>`, dated within the last 15 minutes, with a valid signature.
 * @throws TokenRejectedError
 */
export async function verifyEksToken(token: string, options: VerifyOptions): Promise<VerifiedEksToken> {
  const url = decodeToken(token);
  const params = uniqueParameters(url);
  if (params.get('action') !== 'GetCallerIdentity')
    throw new TokenRejectedError('not a GetCallerIdentity URL');
  const signedHeaders = (params.get('x-amz-signedheaders') ?? '').toLowerCase().split(';');
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) {
    throw new TokenRejectedError(`the ${CLUSTER_ID_HEADER} header is not signed`);
  }
  const signingDate = checkValidity(params, options.now ?? new Date());
  const [accessKeyId = '', , region = '', service = '', terminator = ''] = (
    params.get('x-amz-credential') ?? ''
  ).split('/');
  if (service !== 'sts' || terminator !== 'aws4_request' || !accessKeyId || !region) {
    throw new TokenRejectedError('malformed X-Amz-Credential');
  }
  const secretAccessKey = options.secretFor(accessKeyId);
  if (!secretAccessKey) throw new TokenRejectedError(`unknown access key ${accessKeyId}`);
  const expected = await signatureFor(url, params, {
    clusterName: options.clusterName,
    credentials: { accessKeyId, secretAccessKey, sessionToken: params.get('x-amz-security-token') },
    region,
    signingDate,
  });
  const given = Buffer.from(params.get('x-amz-signature') ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenRejectedError(
      `signature does not match (signed for another cluster than ${options.clusterName}?)`,
    );
  }
  return { url, accessKeyId };
}

function decodeToken(token: string): URL {
  if (!token.startsWith(TOKEN_PREFIX)) throw new TokenRejectedError('not an EKS token');
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejectedError('token too long');
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new TokenRejectedError('token is not base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new TokenRejectedError('token is not a URL');
  }
  if (url.protocol !== 'https:' || !STS_HOST.test(url.host)) throw new TokenRejectedError('not an STS URL');
  if (url.pathname !== '/') throw new TokenRejectedError('unexpected path');
  return url;
}

/** Query parameters keyed in lower case; only aws-iam-authenticator's list, each once. */
function uniqueParameters(url: URL): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    const lower = key.toLowerCase();
    if (!ALLOWED_PARAMETERS.has(lower)) throw new TokenRejectedError(`parameter ${key} not allowed`);
    if (params.has(lower)) throw new TokenRejectedError(`parameter ${key} repeated`);
    params.set(lower, value);
  }
  return params;
}

function checkValidity(params: Map<string, string>, now: Date): Date {
  const expires = Number(params.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900) {
    throw new TokenRejectedError('X-Amz-Expires missing or outside 0-900');
  }
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get('x-amz-date') ?? '');
  if (!match) throw new TokenRejectedError('X-Amz-Date missing or malformed');
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
  if (now.getTime() > signingDate.getTime() + PRESIGNED_URL_LIFETIME_MS) {
    throw new TokenRejectedError('token expired (X-Amz-Date more than 15 minutes ago)');
  }
  if (signingDate.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new TokenRejectedError('X-Amz-Date is in the future');
  }
  return signingDate;
}

/** Presigns the same GetCallerIdentity request STS would check, with this cluster's name. */
async function signatureFor(
  url: URL,
  params: Map<string, string>,
  input: {
    clusterName: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined };
    region: string;
    signingDate: Date;
  },
): Promise<Buffer> {
  const signedHeaders = (params.get('x-amz-signedheaders') ?? '').toLowerCase();
  if (signedHeaders !== `host;${CLUSTER_ID_HEADER}`) {
    throw new TokenRejectedError(`signed headers must be host;${CLUSTER_ID_HEADER}`);
  }
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
    hostname: url.host,
    path: '/',
    query: Object.fromEntries(
      (['Action', 'Version'] as const).flatMap((key) => {
        const value = params.get(key.toLowerCase());
        return value === undefined ? [] : [[key, value]];
      }),
    ),
    headers: { host: url.host, [CLUSTER_ID_HEADER]: input.clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: Number(params.get('x-amz-expires')),
    signingDate: input.signingDate,
  });
  return Buffer.from(String(signed.query?.['X-Amz-Signature'] ?? ''));
}
