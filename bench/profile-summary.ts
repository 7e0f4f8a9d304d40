/**
 * Reads V8 CPU profiles (bench:workflow --cpu-prof DIR writes one per step host) and prints where
 * the time went: self time by source (the bundle's positions mapped back through its source map to
 * this repository's files and npm packages), the top functions by self time, and the time under
 * each workflow step (inclusive, synchronous stacks only: a step's awaited continuations appear
 * under their own frames, so these are lower bounds). Idle time and garbage collection are listed
 * apart. Figures only.
 * Run: npx tsx bench/profile-summary.ts <dir or .cpuprofile>… [--top 25] [--sources 15]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { args, opts } = (() => {
  const command = new Command('profile-summary')
    .argument('<paths...>', '.cpuprofile files or directories holding them')
    .option('--top <n>', 'functions to list', (v) => Number.parseInt(v, 10), 25)
    .option('--sources <n>', 'sources to list', (v) => Number.parseInt(v, 10), 15)
    .parse();
  return { args: command.args, opts: command.opts<{ top: number; sources: number }>() };
})();
const log = (line = '') => process.stdout.write(`${line}\n`);
const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`.padStart(9);

const files = args.flatMap((path) =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(path, f))
    : [path],
);

const maps = new Map<string, SourceMap | undefined>();
let profileDir = '.';
/** The bundle's source map: beside it, or the copy bench:workflow keeps beside the profiles. */
function sourceMapOf(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    let map: SourceMap | undefined;
    if (url.startsWith('file://')) {
      const bundle = fileURLToPath(url);
      const file = [`${bundle}.map`, join(profileDir, `${basename(dirname(bundle))}.index.mjs.map`)].find(
        existsSync,
      );
      if (file) map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')));
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

/** Where a frame comes from: `repo:path:line name`, `npm:package`, or Node's own. */
function origin(frame: CallFrame): { source: string; where: string } {
  const map = sourceMapOf(frame.url);
  if (!map) {
    const source = frame.url === '' ? frame.functionName || '(native)' : frame.url;
    return { source, where: `${frame.functionName || '(anonymous)'} ${source}:${frame.lineNumber + 1}` };
  }
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
    originalSource?: string;
    originalLine?: number;
    name?: string;
  };
  const file = (entry.originalSource ?? '?').replace(
    /^.*?\/(node_modules|shared|functions|scripts)\//,
    '$1/',
  );
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
  const source = pkg ? `npm:${pkg}` : file;
  const name = entry.name ?? frame.functionName ?? '(anonymous)';
  return { source, where: `${name || '(anonymous)'} ${file}:${(entry.originalLine ?? 0) + 1}` };
}

/** The workflow steps, by the name they keep in the source map. */
const STEPS = ['planStep', 'resyncStep', 'checkSyncStep', 'advanceRestartsStep'];

for (const file of files) {
  profileDir = dirname(file);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const origins = new Map(profile.nodes.map((n) => [n.id, origin(n.callFrame)]));
  const bySource = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const underStep = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    total += us;
    const o = origins.get(id) ?? { source: '?', where: '?' };
    bySource.set(o.source, (bySource.get(o.source) ?? 0) + us);
    byFunction.set(o.where, (byFunction.get(o.where) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = origins.get(at)?.where.split(' ')[0] ?? '';
      if (STEPS.includes(name) && !seen.has(name)) {
        seen.add(name);
        underStep.set(name, (underStep.get(name) ?? 0) + us);
      }
    }
  }
  const idle = bySource.get('(idle)') ?? 0;
  log(`\n${file}`);
  log(
    `  profiled ${ms(profile.endTime - profile.startTime).trim()}, of which idle ${ms(idle).trim()}, busy ${ms(total - idle).trim()} (GC ${ms(bySource.get('(garbage collector)') ?? 0).trim()})`,
  );
  log('  under each step (inclusive, synchronous stacks only)');
  for (const step of STEPS) log(`    ${step.padEnd(22)}${ms(underStep.get(step) ?? 0)}`);
  log('  self time by source');
  const busy = (m: Map<string, number>) =>
    [...m].filter(([k]) => k !== '(idle)' && !k.startsWith('(idle) ')).sort((a, b) => b[1] - a[1]);
  for (const [source, us] of busy(bySource).slice(0, opts.sources)) {
    log(`    ${ms(us)} ${((100 * us) / (total - idle)).toFixed(1).padStart(5)} %  ${source}`);
  }
  log(`  top ${opts.top} functions by self time`);
  for (const [where, us] of busy(byFunction).slice(0, opts.top)) {
    log(`    ${ms(us)} ${((100 * us) / (total - idle)).toFixed(1).padStart(5)} %  ${where}`);
  }
}
