/**
 * A local stand-in for EKS's authenticator (aws-iam-authenticator): a kube-apiserver token webhook
 * (authentication.k8s.io/v1 TokenReview) that accepts `k8s-aws-v1.` bearer tokens. It checks the
 * presigned GetCallerIdentity URL in the token (eks-token-verification.ts), sends it to the local
 * STS (moto) with `x-k8s-aws-id: <cluster>`, and maps the returned ARN through access entries
 * (eks-access-entries.ts). Anything else is `authenticated: false`. A token signed with a role
 * session moto issued (a cluster in another account) is checked with that session's key, read from
 * moto. Plain HTTP on 127.0.0.1: the apiserver's webhook kubeconfig allows http://
 * (k8s.io/apiserver util/webhook LoadKubeconfig).
 *
 * Started and stopped by scripts/cluster/up.sh/down.sh:
 *   node --import tsx scripts/cluster/eks-authenticator.ts --config FILE --port PORT
 * Logs one line per review (never the token).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import {
  type CallerIdentity,
  type KubernetesUser,
  kubernetesUserFor,
  readAuthenticatorConfig,
} from './eks-access-entries';
import { TokenRejectedError, verifyEksToken } from './eks-token-verification';

const MAX_BODY_BYTES = 64 * 1024;
const STS_TIMEOUT_MS = 5_000;

type Review = { authenticated: true; user: KubernetesUser } | { authenticated: false; error: string };

/** Decides one token: verified, known to STS, and mapped by an access entry. */
async function review(token: string, configPath: string): Promise<Review> {
  const config = await readAuthenticatorConfig(configPath);
  try {
    const keys = new Map([
      ...(await motoSessionKeys(config.stsEndpoint)),
      ...config.signingKeys.map((k) => [k.accessKeyId, k.secretAccessKey] as const),
    ]);
    const verified = await verifyEksToken(token, {
      clusterName: config.clusterName,
      secretFor: (id) => keys.get(id),
    });
    const identity = await callerIdentity(config.stsEndpoint, verified.url, config.clusterName);
    const user = kubernetesUserFor(identity, verified.accessKeyId, config.accessEntries);
    if (!user) return { authenticated: false, error: `no access entry for ${identity.arn}` };
    return { authenticated: true, user };
  } catch (error) {
    if (error instanceof TokenRejectedError) return { authenticated: false, error: error.message };
    throw error;
  }
}

/**
 * The secret keys of the sessions moto's AssumeRole issued (harness/moto_sts_trust.py), so a
 * token signed with assumed-role credentials (a cluster in another account) is checked like any
 * other. None when the endpoint is not that moto.
 */
async function motoSessionKeys(stsEndpoint: string): Promise<[string, string][]> {
  try {
    const response = await fetch(new URL('/moto-api/config', stsEndpoint), {
      signal: AbortSignal.timeout(STS_TIMEOUT_MS),
    });
    const sessions = ((await response.json()) as { rotator_sts_sessions?: Record<string, unknown> })
      .rotator_sts_sessions;
    return Object.entries(sessions ?? {}).flatMap(([id, key]) =>
      typeof key === 'string' ? [[id, key]] : [],
    );
  } catch {
    return [];
  }
}

/** GetCallerIdentity at the local STS: the token's query string, the cluster header, as EKS sends it. */
async function callerIdentity(stsEndpoint: string, url: URL, clusterName: string): Promise<CallerIdentity> {
  const response = await fetch(new URL(url.search, stsEndpoint), {
    headers: { 'x-k8s-aws-id': clusterName, accept: 'application/json' },
    signal: AbortSignal.timeout(STS_TIMEOUT_MS),
  });
  const body = await response.text();
  if (response.status !== 200) throw new TokenRejectedError(`STS answered HTTP ${response.status}`);
  // STS answers JSON when asked; moto answers XML.
  const field = (name: string) =>
    new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1] ??
    new RegExp(`"${name}"\\s*:\\s*"([^"]*)"`).exec(body)?.[1];
  const [arn, account, userId] = [field('Arn'), field('Account'), field('UserId')];
  if (!arn || !account || !userId) throw new TokenRejectedError('STS gave no caller identity');
  return { arn, account, userId };
}

async function handle(request: IncomingMessage, response: ServerResponse, configPath: string): Promise<void> {
  if (request.method === 'GET' && request.url === '/healthz') {
    response.writeHead(200).end('ok');
    return;
  }
  if (request.method !== 'POST') {
    response.writeHead(405).end();
    return;
  }
  const body = await readBody(request);
  const tokenReview = JSON.parse(body) as { apiVersion?: string; spec?: { token?: unknown } };
  const token = typeof tokenReview.spec?.token === 'string' ? tokenReview.spec.token : '';
  const result = await review(token, configPath);
  const status = result.authenticated
    ? { authenticated: true, user: result.user }
    : { authenticated: false, error: result.error };
  log(
    result.authenticated
      ? { authenticated: true, username: result.user.username, groups: result.user.groups }
      : { authenticated: false, reason: result.error },
  );
  response.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      apiVersion: tokenReview.apiVersion ?? 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      status,
    }),
  );
}

/** One JSON line on stdout (up.sh keeps it in STATE_DIR/logs/eks-authenticator.log). */
function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function main(): void {
  const { values } = parseArgs({ options: { config: { type: 'string' }, port: { type: 'string' } } });
  if (!values.config || !values.port)
    throw new Error('usage: eks-authenticator.ts --config FILE --port PORT');
  const configPath = values.config;
  // An error (bad config, STS down) is a 500: the apiserver then fails the request with 401 and
  // logs it, as it does when EKS's authenticator is unavailable.
  const server = createServer((request, response) => {
    handle(request, response, configPath).catch((error: unknown) => {
      log({ error: String(error) });
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  server.listen(Number(values.port), '127.0.0.1', () => {
    log({ listening: `http://127.0.0.1:${values.port}` });
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      server.close();
      process.exit(0);
    });
  }
}

main();
