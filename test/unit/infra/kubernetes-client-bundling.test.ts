/**
 * What the propagation step's bundling (KUBERNETES_CLIENT_BUNDLING) puts in the bundle: undici's
 * Agent through infra/lib/bundling/undici.js, from the one undici the sources and client-node
 * resolve, and nothing of @kubernetes/client-node.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  KUBERNETES_CLIENT_ALIASES,
  KUBERNETES_CLIENT_BUNDLING,
} from '../../../infra/lib/bundling/kubernetes-client';
import { REPO_ROOT } from '../../../infra/lib/lambda-defaults';
import { esbuildOptionsOf } from '../../support/lambda-esbuild-options';

const SHIM = KUBERNETES_CLIENT_ALIASES.undici ?? '';

/** The undici package folder that `require('undici')` finds from a file. */
const undiciFrom = (file: string) => dirname(createRequire(file).resolve('undici'));

describe('the undici shim (infra/lib/bundling/undici.js)', () => {
  const imported = [...readFileSync(SHIM, 'utf8').matchAll(/^import \w+ from '([^']+)';$/gm)].map((m) =>
    resolve(dirname(SHIM), m[1] ?? ''),
  );

  it('imports its files from the undici our sources resolve, the version package.json pins', () => {
    const ours = undiciFrom(join(REPO_ROOT, 'shared/kubernetes/bearer-token-transport.ts'));
    const pinned = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).dependencies.undici;

    expect(imported.length).toBeGreaterThan(0);
    for (const file of imported) expect(file.startsWith(`${ours}/`)).toBe(true);
    expect(JSON.parse(readFileSync(join(ours, 'package.json'), 'utf8')).version).toBe(pinned);
  });

  it('imports them from the undici @kubernetes/client-node resolves (no nested copy)', () => {
    const clientNode = createRequire(join(REPO_ROOT, 'package.json')).resolve('@kubernetes/client-node');
    const clientNodeUndici = undiciFrom(join(clientNode, '../../package.json'));

    for (const file of imported) expect(file.startsWith(`${clientNodeUndici}/`)).toBe(true);
  });
});

describe('the propagation step bundled with KUBERNETES_CLIENT_BUNDLING', () => {
  let inputs: string[];
  beforeAll(async () => {
    const { metafile } = await build({
      entryPoints: [join(REPO_ROOT, 'functions/propagation-step/handler.ts')],
      ...esbuildOptionsOf(KUBERNETES_CLIENT_BUNDLING),
      metafile: true,
      write: false,
      outdir: 'out',
    });
    inputs = Object.keys((metafile as Metafile).inputs);
  }, 60_000);

  it('holds nothing of @kubernetes/client-node: EKS is reached without a KubeConfig', () => {
    expect(inputs.filter((path) => path.includes('node_modules/@kubernetes/client-node/'))).toEqual([]);
  });

  it('takes undici through the shim: no fetch, WebSocket, EventSource, HTTP cache or mock agents', () => {
    const undici = inputs.filter((path) => path.includes('node_modules/undici/'));

    expect(undici).toContain('node_modules/undici/lib/dispatcher/agent.js');
    expect(undici).not.toContain('node_modules/undici/index.js');
    expect(undici).not.toContain('node_modules/undici/lib/web/fetch/index.js');
    // request()'s body reader still takes a few of fetch's helpers (body mixins, FormData).
    const unwanted = /undici\/lib\/(mock|cache|interceptor|web\/(websocket|eventsource|cache))\//;
    expect(undici.filter((path) => unwanted.test(path))).toEqual([]);
  });
});
