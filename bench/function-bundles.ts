/**
 * Benchmark: the functions' bundles as they ship (from the cloud assembly). For each, prints raw,
 * gzip and source-map sizes and the cold import time of the bundle in a fresh Node 24 process
 * (median and spread of several runs). Figures only; nothing is asserted. Run: npm run bench
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEPLOY_TIME_PLACEHOLDERS, synthLocalStack } from '../scripts/local/local-stack';
import { BASE_PROPS } from '../test/support/synth-stack';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const synthStarted = performance.now();
const local = synthLocalStack({
  managedPrefixes: [...BASE_PROPS.managedPrefixes],
  propagation: { clusterNames: ['c'] },
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
  const samples = Array.from({ length: RUNS }, () =>
    Number(
      execFileSync(process.execPath, ['--input-type=module', '-e', importScript], { env, encoding: 'utf8' }),
    ),
  ).sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const name = {
    rotate: 'rotate-secret',
    sweep: 'sweep',
    request: 'rotation-request',
    starter: 'propagate-secret (starter)',
    step: 'propagation-step',
  }[fn.name];
  process.stdout.write(`${name}
  index.mjs                 ${kib(bundle.length)}
  index.mjs gzip -9         ${kib(gzipSync(bundle, { level: 9 }).length)}
  index.mjs.map             ${kib(statSync(`${bundlePath}.map`).size)}
  cold import (${RUNS} runs)     median ${median.toFixed(1)} ms, min ${samples[0]?.toFixed(1)} ms, max ${samples.at(-1)?.toFixed(1)} ms
`);
}
