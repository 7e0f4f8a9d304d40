/**
 * Benchmark: the functions' bundles as they ship (from the cloud assembly). For each, prints raw,
 * gzip and source-map sizes, the packages contributing most to the bundle (esbuild's metafile), and
 * the cold import time of the bundle in a fresh Node 24 process (median and spread of several
 * runs) with the 1-minute load average beside it: on a busy machine the times mean little.
 * Figures only; nothing is asserted. Run: npm run bench
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
// BENCH_CPU_PROF=<dir>: one more import per function under --cpu-prof, written to <dir>/<function>/
// (read it with `npx tsx bench/profile-summary.ts <dir>/<function>`); not counted in the figures.
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const TOP_CONTRIBUTORS = 8;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const load = () => `load ${loadavg()[0]?.toFixed(2)}`;

// Read by infra/lib/lambda-defaults.ts when it loads (below, not before): esbuild then writes its
// metafile next to each bundle.
process.env.ROTATOR_BUNDLE_METAFILE = '1';
const { DEPLOY_TIME_PLACEHOLDERS, synthLocalStack } = await import('../harness/local-stack');
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

const NAMES: Record<string, string> = {
  rotate: 'rotate-secret',
  rotateDatabase: 'rotate-database-secret',
  sweep: 'sweep',
  request: 'rotation-request',
  emergency: 'emergency-request',
  starter: 'propagate-secret (starter)',
  step: 'propagation-step',
  notify: 'notify',
};
/**
 * The targets: issue 12's for the propagation step (it talks to Kubernetes) and for the functions
 * that call only AWS; issue 10's (item 8) for the database rotation function, which carries the
 * PostgreSQL and MySQL drivers and RDS's CA certificates.
 */
const TARGETS = (name: string) =>
  name === 'step'
    ? { bytes: 1.5 * 1024 * 1024, ms: 150, issue: 12 }
    : name === 'rotateDatabase'
      ? { bytes: 1024 * 1024, ms: 150, issue: 10 }
      : { bytes: 500 * 1024, ms: 80, issue: 12 };

const runs = functions.map((fn) => {
  const bundlePath = join(fn.directory, 'index.mjs');
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
  return { fn, bundlePath, importScript, env, samples: [] as number[] };
});

// Round-robin: one import of every function per round, so a burst of load elsewhere on the machine
// lands on all functions alike instead of on whichever was being measured.
const loadBefore = load();
for (let round = 0; round < RUNS; round++) {
  for (const run of runs) {
    const args = ['--input-type=module', '-e', run.importScript];
    run.samples.push(Number(execFileSync(process.execPath, args, { env: run.env, encoding: 'utf8' })));
  }
}
const loadAfter = load();

const verdicts: string[] = [];
for (const { fn, bundlePath, importScript, env, samples } of runs) {
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const bundle = readFileSync(bundlePath);
  if (CPU_PROF_DIR) {
    const profileArgs = [
      '--cpu-prof',
      '--cpu-prof-interval',
      '100',
      '--cpu-prof-dir',
      join(CPU_PROF_DIR, fn.name),
    ];
    execFileSync(process.execPath, [...profileArgs, '--input-type=module', '-e', importScript], { env });
    // The synthesized assembly is removed at exit; profile-summary finds the source map here.
    copyFileSync(`${bundlePath}.map`, join(CPU_PROF_DIR, fn.name, `${basename(fn.directory)}.index.mjs.map`));
  }
  const name = NAMES[fn.name] ?? fn.name;
  const metafile = JSON.parse(readFileSync(join(fn.directory, 'index.meta.json'), 'utf8')) as Metafile;
  const top = contributors(metafile)
    .slice(0, TOP_CONTRIBUTORS)
    .map(([pkg, bytes]) => `    ${pkg.padEnd(38)}${kib(bytes).padStart(11)}\n`)
    .join('');
  process.stdout.write(`${name}
  index.mjs                 ${kib(bundle.length)}
  index.mjs gzip -9         ${kib(gzipSync(bundle, { level: 9 }).length)}
  index.mjs.map             ${kib(statSync(`${bundlePath}.map`).size)}
  cold import (${RUNS} runs)     median ${median.toFixed(1)} ms, min ${samples[0]?.toFixed(1)} ms, max ${samples.at(-1)?.toFixed(1)} ms
  largest contributors (bytes in output):
${top}`);
  const target = TARGETS(fn.name);
  const size = bundle.length < target.bytes ? 'met' : 'NOT met';
  const time = median < target.ms ? 'met' : 'NOT met';
  verdicts.push(
    `  ${name.padEnd(28)}${kib(bundle.length).padStart(11)} (< ${kib(target.bytes)}: ${size})   median ${median.toFixed(1).padStart(6)} ms (< ${target.ms} ms: ${time})   issue ${target.issue}'s`,
  );
}
process.stdout.write(
  `\ntargets (cold import: ${RUNS} rounds, round-robin; ${loadBefore} before, ${loadAfter} after)\n${verdicts.join('\n')}\n`,
);
