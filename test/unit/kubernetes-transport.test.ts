/**
 * KubernetesAdapter over HTTPS, as the sources run (CLI, tests) and as the propagation step's bundle
 * is built (undici aliased to infra/lib/bundling/undici.js, unused KubeConfig features stubbed):
 * a local HTTPS server with a CA of its own stands in for an EKS API server, reached with a
 * KubeConfig built the step's way (cluster CA and bearer token). Real API servers: test/cluster/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KUBERNETES_CLIENT_ALIASES,
  KUBERNETES_CLIENT_DEFINE,
} from '../../infra/lib/bundling/kubernetes-client';
import { LAMBDA_BUNDLING, REPO_ROOT } from '../../infra/lib/lambda-defaults';
import type * as sources from '../../shared/kubernetes/eks-cluster';
import type { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';

type Client = Pick<typeof sources, 'kubeConfigWithToken'> & { KubernetesAdapter: typeof KubernetesAdapter };

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly body: string;
}

const TOKEN = 'k8s-aws-v1.test-token';
const dir = mkdtempSync(join(tmpdir(), 'kubernetes-transport-'));
const seen: SeenRequest[] = [];
let tlsConnections = 0;
let conflictsLeft = 0;
let server: Server;
let endpoint: { name: string; server: string; certificateAuthority: string };

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** Two CAs, and a certificate for 127.0.0.1 signed by the first (the cluster's). */
function createPki(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const ca of ['cluster-ca', 'other-ca'])
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-subj',
      `/CN=${ca}`,
      '-days',
      '1',
    );
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1" > san.ext'], { cwd: dir });
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'cluster-ca.crt',
    '-CAkey',
    'cluster-ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
}

const deployment = (name: string) => ({
  metadata: { namespace: 'apps', name, generation: 2 },
  spec: { replicas: 1, template: { metadata: { annotations: {} }, spec: { containers: [] } } },
  status: { observedGeneration: 2 },
});
const status = (code: number, reason: string) => JSON.stringify({ kind: 'Status', code, reason });

/** The API server's answers: two pages of Deployments, no ESO v1 (so v1beta1), one 409 if asked. */
function answer(method: string, url: URL): [number, string] {
  const path = url.pathname;
  if (method === 'PATCH') {
    if (conflictsLeft > 0) {
      conflictsLeft -= 1;
      return [409, status(409, 'Conflict')];
    }
    return [200, '{}'];
  }
  if (path === '/apis/apps/v1/namespaces/apps/deployments') {
    return url.searchParams.get('continue') === 'page-2'
      ? [200, JSON.stringify({ items: [deployment('c')], metadata: {} })]
      : [
          200,
          JSON.stringify({ items: [deployment('a'), deployment('b')], metadata: { continue: 'page-2' } }),
        ];
  }
  const named = /^\/apis\/apps\/v1\/namespaces\/apps\/deployments\/(\w+)$/.exec(path);
  if (named) return [200, JSON.stringify(deployment(named[1] ?? ''))];
  if (path.startsWith('/apis/apps/v1/namespaces/apps/'))
    return [200, JSON.stringify({ items: [], metadata: {} })];
  if (path.startsWith('/apis/external-secrets.io/v1/')) return [404, status(404, 'NotFound')];
  if (path === '/apis/external-secrets.io/v1beta1/secretstores') return [403, status(403, 'Forbidden')];
  return [404, status(404, 'NotFound')];
}

/** The adapter's modules bundled with the step's esbuild options, in a Node 24 ESM file. */
async function bundleLikeTheStep(): Promise<string> {
  const outfile = join(dir, 'kubernetes.mjs');
  await build({
    stdin: {
      contents: [
        `export { kubeConfigWithToken } from './shared/kubernetes/eks-cluster';`,
        `export { KubernetesAdapter } from './shared/kubernetes/kubernetes-adapter';`,
      ].join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLING.target,
    mainFields: LAMBDA_BUNDLING.mainFields,
    minify: true,
    keepNames: true,
    banner: { js: LAMBDA_BUNDLING.banner ?? '' },
    alias: { ...KUBERNETES_CLIENT_ALIASES },
    define: { ...KUBERNETES_CLIENT_DEFINE },
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

beforeAll(async () => {
  createPki();
  server = createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
    (request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          body,
        });
        const [code, payload] = answer(request.method ?? '', new URL(request.url ?? '/', 'https://x'));
        response.writeHead(code, { 'content-type': 'application/json' }).end(payload);
      });
    },
  );
  server.on('secureConnection', () => {
    tlsConnections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = {
    name: 'local',
    server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    certificateAuthority: readFileSync(join(dir, 'cluster-ca.crt')).toString('base64'),
  };
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const variants: [string, () => Promise<Client>][] = [
  [
    'from the sources',
    async () => ({
      ...(await import('../../shared/kubernetes/eks-cluster')),
      ...(await import('../../shared/kubernetes/kubernetes-adapter')),
    }),
  ],
  ['bundled as the propagation step is', async () => import(pathToFileURL(await bundleLikeTheStep()).href)],
];

describe.each(variants)('KubernetesAdapter over HTTPS, %s', (_, load) => {
  let client: Client;
  let adapter: KubernetesAdapter;
  beforeAll(async () => {
    client = await load();
    adapter = new client.KubernetesAdapter(client.kubeConfigWithToken(endpoint, TOKEN), { pageSize: 2 });
  }, 60_000);

  it('lists every page with the bearer token, over TLS verified against the cluster CA', async () => {
    seen.length = 0;

    const workloads = await adapter.listWorkloads('apps');

    expect(workloads.filter((w) => w.kind === 'Deployment').map((w) => w.name)).toEqual(['a', 'b', 'c']);
    expect(seen.filter((r) => r.url.includes('/deployments')).map((r) => r.url)).toEqual([
      '/apis/apps/v1/namespaces/apps/deployments?limit=2',
      '/apis/apps/v1/namespaces/apps/deployments?limit=2&continue=page-2',
    ]);
    expect(new Set(seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
  });

  it('merge-patches a workload under its field manager, retrying a 409 conflict', async () => {
    seen.length = 0;
    conflictsLeft = 1;
    const patch = { spec: { template: { metadata: { annotations: { restarted: 'now' } } } } };

    await adapter.patchWorkload({ kind: 'StatefulSet', namespace: 'apps', name: 'db' }, patch);

    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request).toMatchObject({
        method: 'PATCH',
        url: '/apis/apps/v1/namespaces/apps/statefulsets/db?fieldManager=secret-rotation-orchestrator',
        contentType: 'application/merge-patch+json',
      });
      expect(JSON.parse(request.body)).toEqual(patch);
    }
  });

  it('falls back to ESO v1beta1 on a 404 and fails other calls with the HTTP status and body', async () => {
    seen.length = 0;

    const failure = await adapter.listSecretStores().catch((error: unknown) => error);

    expect(seen.map((r) => r.url)).toEqual([
      '/apis/external-secrets.io/v1/externalsecrets?limit=1',
      '/apis/external-secrets.io/v1beta1/secretstores?limit=2',
    ]);
    expect(failure).toMatchObject({ code: 403 });
    expect(JSON.parse((failure as { body: string }).body)).toMatchObject({ reason: 'Forbidden' });
  });

  it('reuses its TLS connections instead of opening one per call', async () => {
    const fresh = new client.KubernetesAdapter(client.kubeConfigWithToken(endpoint, TOKEN));
    const before = tlsConnections;

    for (let i = 0; i < 10; i++) await fresh.getRollout({ kind: 'Deployment', namespace: 'apps', name: 'a' });

    // The shared undici pool may hold a second connection; one per call would be 10.
    expect(tlsConnections - before).toBeGreaterThan(0);
    expect(tlsConnections - before).toBeLessThanOrEqual(2);
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const otherCa = readFileSync(join(dir, 'other-ca.crt')).toString('base64');
    const untrusting = new client.KubernetesAdapter(
      client.kubeConfigWithToken({ ...endpoint, certificateAuthority: otherCa }, TOKEN),
    );
    seen.length = 0;

    const failure = await untrusting.listRollouts('apps', 'Deployment').catch((error: unknown) => error);

    expect((failure as Error & { cause?: { code?: string } }).cause?.code).toBe(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
    expect(seen).toEqual([]);
  });
});
