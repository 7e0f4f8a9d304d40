/**
 * Benchmark: the functions' bundles as they ship (from the cloud assembly). For each, prints raw,
 * gzip and source-map sizes, the packages contributing most to the bundle (esbuild's metafile), and
 * the cold import time of the bundle in a fresh Node 24 process (median and spread of several
 * runs) with the 1-minute load average beside it: on a busy machine the times mean little.
 * Figures only; nothing is asserted. Run: npm run bench
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TOP_CONTRIBUTORS = 8;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const load = () => `load ${loadavg()[0]?.toFixed(2)}`;

// Read by infra/lib/lambda-defaults.ts when it loads (below, not before): esbuild then writes its
// metafile next to each bundle.
process.env.ROTATOR_BUNDLE_METAFILE = '1';
const { DEPLOY_TIME_PLACEHOLDERS, synthLocalStack } = await import('../scripts/local/local-stack');
const { BASE_PROPS } = await import('../test/support/synth-stack');

interface Metafile {
  readonly outputs: Record<
    string,
    { readonly entryPoint?: string; readonly inputs: Record<string, { readonly bytesInOutput: number }> }
  >;
}

/** Bytes in the bundle by npm package (the innermost node_modules folder), our own files as one. */
function contributors(metafile: Metafile): [string, number][] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint);
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(this repository)';
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

const synthStarted = performance.now();
// Every function the stack can deploy: the emergency URL's and the database rotation function too.
const local = synthLocalStack({
  managedPrefixes: [...BASE_PROPS.managedPrefixes],
  emergencyPrincipals: ['arn:aws:iam::123456789012:role/operations'],
  databaseRotation: {},
  propagation: { clusterNames: ['c'] },
  notifications: { secretPrefix: 'ops/rotator-notifications/' },
});
const functions = Object.entries(local.bundles).flatMap(([name, fn]) => (fn ? [{ ...fn, name }] : []));
process.stdout.write(
  `synth + bundle of ${functions.length} functions: ${(performance.now() - synthStarted).toFixed(0)} ms (Node ${process.version})\n`,
);

for (const fn of functions) {
  const bundlePath = join(fn.directory, 'index.mjs');
  const bundle = readFileSync(bundlePath);
  const importScript = `
    const t = performance.now();
    await import(${JSON.stringify(`file://${bundlePath}`)});
    process.stdout.write(String(performance.now() - t));
  `;
  const env = {
    PATH: process.env.PATH ?? '',
    ...DEPLOY_TIME_PLACEHOLDERS,
    ...fn.environment,
    AWS_REGION: 'us-east-1',
  };
  const loadBefore = load();
  const samples = Array.from({ length: RUNS }, () =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', importScript], { env, encoding: 'utf8' }),
    ),
  ).sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const name = {
    rotate: 'rotate-secret',
    rotateDatabase: 'rotate-database-secret',
    sweep: 'sweep',
    request: 'rotation-request',
    emergency: 'emergency-request',
    starter: 'propagate-secret (starter)',
    step: 'propagation-step',
    notify: 'notify',
  }[fn.name];
  const metafile = JSON.parse(readFileSync(join(fn.directory, 'index.meta.json'), 'utf8')) as Metafile;
  const top = contributors(metafile)
    .slice(0, TOP_CONTRIBUTORS)
    .map(([pkg, bytes]) => `    ${pkg.padEnd(38)}${kib(bytes).padStart(11)}\n`)
    .join('');
  process.stdout.write(`${name}
  index.mjs                 ${kib(bundle.length)}
  index.mjs gzip -9         ${kib(gzipSync(bundle, { level: 9 }).length)}
  index.mjs.map             ${kib(statSync(`${bundlePath}.map`).size)}
  cold import (${RUNS} runs)     median ${median.toFixed(1)} ms, min ${samples[0]?.toFixed(1)} ms, max ${samples.at(-1)?.toFixed(1)} ms (${loadBefore} before, ${load()} after)
  largest contributors (bytes in output):
${top}`);
}
