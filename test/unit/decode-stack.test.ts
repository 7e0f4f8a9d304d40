import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeStack } from '../../scripts/decode-stack';

const dir = mkdtempSync(join(tmpdir(), 'decode-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeStack', () => {
  it('maps a minified bundle’s frames back to the TypeScript line that threw', () => {
    // Prepare: a source whose throw is on line 4, bundled minified with a map, as the functions are.
    writeFileSync(
      join(dir, 'handler.ts'),
      [
        'export function handler(input: string): never {',
        "  const padded = input + '!';",
        '  void padded;',
        "  throw new TypeError('boom');",
        '}',
        'handler("x");',
        '',
      ].join('\n'),
    );
    buildSync({
      entryPoints: [join(dir, 'handler.ts')],
      bundle: true,
      minify: true,
      keepNames: true,
      sourcemap: true,
      sourcesContent: false,
      format: 'esm',
      platform: 'node',
      outfile: join(dir, 'index.mjs'),
      logLevel: 'silent',
    });
    let stack = '';
    try {
      execFileSync(process.execPath, [join(dir, 'index.mjs')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stack = String((error as { stderr: string }).stderr);
    }
    expect(stack).toMatch(/index\.mjs:1:\d+/);

    const decoded = decodeStack(
      stack,
      new SourceMap(JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8'))),
    );

    expect(decoded).toMatch(/index\.mjs:1:\d+ → .*handler\.ts:4:\d+/);
  });
});
