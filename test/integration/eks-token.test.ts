import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createEksToken, EKS_TOKEN_LIFETIME_MS, EksTokenCache } from '../../shared/kubernetes/eks-token';

const BOTOCORE_SCRIPT = new URL('../support/botocore_eks_token.py', import.meta.url).pathname;
const SIGNED_AT = new Date('2026-11-23T10:00:00Z');

/** What botocore (the presigner behind `aws eks get-token`) makes for the same inputs. */
function botocoreToken(args: {
  key: string;
  secret: string;
  session?: string;
  region: string;
  cluster: string;
}) {
  const python = process.env.MOTO_PYTHON;
  if (!python) throw new Error('MOTO_PYTHON is not set; run through scripts/test.sh');
  const stamp = SIGNED_AT.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return execFileSync(
    python,
    [BOTOCORE_SCRIPT, args.key, args.secret, args.session ?? '-', args.region, args.cluster, stamp],
    { encoding: 'utf8' },
  ).trim();
}

describe('createEksToken', () => {
  it.each([
    {
      key: 'AKIDEXAMPLE',
      secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      region: 'us-east-1',
      cluster: 'prod',
    },
    {
      key: 'ASIAEXAMPLE',
      secret: 'c2VjcmV0/with+chars=',
      session: 'IQoJb3JpZ2luX2VjE/session+token==',
      region: 'eu-west-1',
      cluster: 'team-a_cluster.1',
    },
  ])('equals botocore’s token for $cluster in $region', async (args) => {
    const ours = await createEksToken({
      clusterName: args.cluster,
      region: args.region,
      credentials: { accessKeyId: args.key, secretAccessKey: args.secret, sessionToken: args.session },
      now: SIGNED_AT,
    });

    expect(ours.token).toBe(botocoreToken(args));
    expect(ours.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(ours.expiresAt.getTime() - SIGNED_AT.getTime()).toBe(EKS_TOKEN_LIFETIME_MS);
  });

  it('signs the x-k8s-aws-id header and a 60-second URL', async () => {
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
      now: SIGNED_AT,
    });
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));

    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261123T100000Z');
  });
});

describe('EksTokenCache', () => {
  it('reuses a token until a minute before it expires, then makes a new one', async () => {
    let now = SIGNED_AT;
    const cache = new EksTokenCache('us-east-1', { accessKeyId: 'AKID', secretAccessKey: 's' }, () => now);

    const first = await cache.tokenFor('prod');
    now = new Date(SIGNED_AT.getTime() + 12 * 60_000);
    const reused = await cache.tokenFor('prod');
    now = new Date(SIGNED_AT.getTime() + 13 * 60_000 + 1);
    const renewed = await cache.tokenFor('prod');
    const other = await cache.tokenFor('staging');

    expect(reused).toBe(first);
    expect(renewed).not.toBe(first);
    expect(other).not.toBe(renewed);
  });
});
