import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_DEFAULTS } from '../../../infra/lib/lambda-defaults';

// The project runs every script and test on the Node it pins as the `node` devDependency, and ships
// its functions on a Lambda runtime: both must be the same major, or the tests prove nothing about
// what runs in AWS.
const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
const pinned = manifest.devDependencies.node ?? '';
const majorOf = (version: string) => version.replace(/^v/, '').split('.')[0];

describe('the pinned Node', () => {
  it('is an exact version, locked as pinned', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lock.packages['node_modules/node']?.version).toBe(pinned);
  });

  it("is the Lambda runtime's major", () => {
    const runtime = LAMBDA_DEFAULTS.runtime.name;
    expect(runtime).toMatch(/^nodejs\d+\.x$/);
    expect(runtime).toBe(`nodejs${majorOf(pinned)}.x`);
    expect(manifest.engines.node).toBe(`>=${majorOf(pinned)}`);
  });

  it('is the Node these tests run on', () => {
    expect(process.versions.node).toBe(pinned);
  });
});
