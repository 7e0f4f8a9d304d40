import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type BundledFunction, bundledFunctions } from '../../../harness/bundled-function';
import { REQUIRE_BANNER } from '../../../infra/lib/lambda-defaults';
import { synthOrchestrator } from '../../support/synth-stack';

// CDK's built-in CloudFormation validation costs seconds per process and proves nothing about this
// construct; orchestrator-stack.test.ts keeps it on for the stack as cdk.json builds it.
vi.stubEnv('CDK_VALIDATION', 'false');
afterAll(() => {
  vi.unstubAllEnvs();
});

describe('the rotation function bundle, built during synth', () => {
  // Prepare and act once for the file: synth with bundling on (local esbuild, about a second), with
  // CDK's Docker command pointing nowhere so that any Docker bundling would fail the synth.
  const docker = process.env.CDK_DOCKER;
  process.env.CDK_DOCKER = '/nonexistent/docker';
  const { app, stack } = synthOrchestrator({}, true);
  const functions = bundledFunctions(app, stack.stackName);
  if (docker === undefined) delete process.env.CDK_DOCKER;
  else process.env.CDK_DOCKER = docker;
  const [rotateSecret] = functions as [BundledFunction];
  const bundle = readFileSync(join(rotateSecret.directory, 'index.mjs'), 'utf8');

  it('is one ESM file and its source map, with nothing else in the asset', () => {
    expect(functions).toHaveLength(1);
    expect(readdirSync(rotateSecret.directory).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(rotateSecret.handler).toBe('index.handler');
  });

  it('defines require for the CommonJS dependencies inside the ESM bundle, without node:module', () => {
    expect(bundle.startsWith(`${REQUIRE_BANNER}\n`)).toBe(true);
    expect(bundle).not.toMatch(/from\s*["']node:module["']/);
  });

  it('bundles the AWS SDK and every other dependency instead of importing them at run time', () => {
    const bareImports = [...bundle.matchAll(/\bfrom\s*["']([^"'.][^"']*)["']/g)]
      .map((match) => match[1] ?? '')
      .filter((specifier) => !specifier.startsWith('node:'));

    expect(bundle).toContain('GetRandomPasswordCommand');
    expect(bareImports).toEqual([]);
  });

  it('is minified, keeps class names, and maps back to the TypeScript sources', () => {
    const map = JSON.parse(readFileSync(join(rotateSecret.directory, 'index.mjs.map'), 'utf8'));

    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    expect(bundle).toContain('"SecretNotManagedError"');
    expect(map.sources.some((source: string) => source.endsWith('functions/rotate-secret/handler.ts'))).toBe(
      true,
    );
    expect(map.sourcesContent).toBeUndefined();
  });

  // Lambda gives the role's credentials in the environment: the default chain's other links (and
  // the STS/SSO clients they carry) stay out (DEPENDENCY_ALIASES in infra/lib/lambda-defaults.ts).
  it('reads AWS credentials from the environment only', () => {
    const map = JSON.parse(readFileSync(join(rotateSecret.directory, 'index.mjs.map'), 'utf8'));
    const sources = map.sources as string[];

    expect(sources.some((source) => source.includes('credential-provider-env-only.mjs'))).toBe(true);
    expect(sources.some((source) => source.includes('@aws-sdk/credential-provider-env/'))).toBe(true);
    expect(
      sources.filter((source) =>
        /@aws-sdk\/(credential-provider-(node|ini|sso|web-identity|process|http)|nested-clients)\//.test(
          source,
        ),
      ),
    ).toEqual([]);
  });

  it('is built by the local esbuild, with no Docker available', () => {
    expect(existsSync(join(rotateSecret.directory, 'index.mjs'))).toBe(true);
  });
});
