/**
 * Every function's bundle reaches node:http and node:https through require() (builtinAliases in
 * infra/lib/lambda-defaults.ts), never as an ESM import: Node builds an ESM facade of a built-in by
 * reading every export, and node:http's lazy WebSocket getters then load Node's own undici on
 * every cold start.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_CLIENT_BUNDLING } from '../../../infra/lib/bundling/kubernetes-client';
import { BUILTIN_ALIASES, LAMBDA_BUNDLING, REPO_ROOT } from '../../../infra/lib/lambda-defaults';
import { aliasesOf } from '../../support/lambda-esbuild-options';

/** Bundles a module that imports the two built-ins the way the AWS SDK does, and runs it. */
async function bundleAndRun(alias: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'builtin-aliases-'));
  // A CommonJS dependency reads what undici reads from node:http; ESM ones import as the SDK does.
  writeFileSync(
    join(dir, 'cjs-dep.cjs'),
    // An optional peer that is not installed, tried as pg does with pg-native.
    `let optional; try { require('not-installed-peer'); } catch (e) { optional = e.code; }
     module.exports = { maxHeaderSize: require('node:http').maxHeaderSize, optional };`,
  );
  writeFileSync(
    join(dir, 'entry.mjs'),
    `import http from 'node:http';
     import { Agent, request } from 'https';
     import cjs from './cjs-dep.cjs';
     const before = process.moduleLoadList.some((m) => m.includes('undici'));
     const moduleLoaded = process.moduleLoadList.includes('NativeModule module');
     console.log(JSON.stringify({ agent: new Agent({ keepAlive: true }) instanceof Agent,
       request: typeof request, codes: http.STATUS_CODES[404], ...cjs, undiciLoaded: before, moduleLoaded }));`,
  );
  const { outputFiles } = await build({
    entryPoints: [join(dir, 'entry.mjs')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLING.target,
    banner: { js: LAMBDA_BUNDLING.banner ?? '' },
    minify: LAMBDA_BUNDLING.minify,
    alias,
    write: false,
    outfile: join(dir, 'index.mjs'),
  });
  const code = outputFiles[0]?.text ?? '';
  writeFileSync(join(dir, 'index.mjs'), code);
  const run = JSON.parse(execFileSync(process.execPath, [join(dir, 'index.mjs')], { encoding: 'utf8' }));
  return { code, run };
}

describe('builtinAliases', () => {
  it('is part of every function’s bundling, the propagation step’s included', () => {
    for (const bundling of [LAMBDA_BUNDLING, KUBERNETES_CLIENT_BUNDLING]) {
      const aliases = aliasesOf(bundling);
      for (const name of ['http', 'node:http']) {
        expect(aliases[name]).toBe(`${REPO_ROOT}infra/lib/bundling/node-http.cjs`);
      }
      for (const name of ['https', 'node:https']) {
        expect(aliases[name]).toBe(`${REPO_ROOT}infra/lib/bundling/node-https.cjs`);
      }
    }
  });

  it('leaves no ESM import of node:http(s) in a bundle, so Node never loads its own undici at start', async () => {
    const { code, run } = await bundleAndRun({ ...BUILTIN_ALIASES });

    expect(code).not.toMatch(/from\s*["']node:https?["']/);
    expect(run).toEqual({
      agent: true,
      request: 'function',
      codes: 'Not Found',
      maxHeaderSize: 16_384,
      optional: 'MODULE_NOT_FOUND',
      undiciLoaded: false,
      // The banner's require takes built-ins without createRequire, so node:module stays unloaded.
      moduleLoaded: false,
    });
  });

  it('without them, the same bundle imports the built-ins as ESM and Node loads its undici', async () => {
    const { code, run } = await bundleAndRun({});

    expect(code).toMatch(/from\s*["']node:https?["']/);
    expect(run.undiciLoaded).toBe(true);
  });
});
