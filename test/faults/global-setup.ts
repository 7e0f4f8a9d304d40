import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import * as cluster from '../support/cluster-global-setup';
import { FAULT_RESULTS_DIR, type RowResult, resultsTable } from '../support/fault-matrix';

/**
 * The cluster project's moto and control plane with ESO (test/support/cluster-global-setup.ts),
 * and at the end the matrix's results table from the rows' results (.test-results/faults/*.json),
 * printed and written to .test-results/faults/table.md.
 */
export async function setup(project: TestProject): Promise<void> {
  rmSync(FAULT_RESULTS_DIR, { recursive: true, force: true });
  await cluster.setup(project);
}

export async function teardown(): Promise<void> {
  await cluster.teardown();
  let files: string[] = [];
  try {
    files = readdirSync(FAULT_RESULTS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return;
  }
  const results = files.map((f) => JSON.parse(readFileSync(join(FAULT_RESULTS_DIR, f), 'utf8')) as RowResult);
  if (results.length === 0) return;
  const table = resultsTable(results);
  writeFileSync(join(FAULT_RESULTS_DIR, 'table.md'), `${table}\n`);
  process.stdout.write(`\nFault-injection matrix (seed ${process.env.FAULT_SEED ?? 1}):\n${table}\n\n`);
}
