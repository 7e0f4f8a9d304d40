/**
 * Maps a deployed function's stack trace back to the TypeScript sources. The functions run without
 * `--enable-source-maps` (parsing the map cost every cold start 8–16 ms; `npm run bench`), and
 * their logs never carry a stack (describeError), but Lambda's own "Invoke Error" lines do, with
 * positions in the minified bundle. Each asset ships its map beside the bundle:
 *   cdk.out/asset.<hash>/index.mjs.map, or the function's code (`aws lambda get-function`).
 * Usage: npx tsx scripts/decode-stack.ts <index.mjs.map> < stack.txt
 * Reads the stack on stdin and prints it with every `index.mjs:<line>:<column>` frame followed by
 * its source position. Uses Node's own SourceMap (node:module).
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

/** Each bundle frame of `stack` with its source position added: `… (index.mjs:1:2 → shared/x.ts:3:4)`. */
export function decodeStack(stack: string, map: SourceMap): string {
  return stack.replace(/index\.mjs:(\d+):(\d+)/g, (frame, line: string, column: string) => {
    // Stack positions are 1-based; SourceMap's are 0-based.
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!('originalSource' in entry) || entry.originalSource === undefined) return frame;
    const source = entry.originalSource.replace(/^.*?\/(functions|shared|infra|node_modules)\//, '$1/');
    return `${frame} → ${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

function main(argv: readonly string[]): void {
  const [mapPath] = argv;
  if (mapPath === undefined || mapPath === '--help' || mapPath === '-h') {
    process.stdout.write('Usage: npx tsx scripts/decode-stack.ts <index.mjs.map> < stack.txt\n');
    process.exitCode = mapPath === undefined ? 2 : 0;
    return;
  }
  const map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')));
  process.stdout.write(decodeStack(readFileSync(0, 'utf8'), map));
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
