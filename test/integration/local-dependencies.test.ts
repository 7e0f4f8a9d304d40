import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLocalDependencies } from '../../harness/local-dependencies';

const NAMES = ['MOTO_PYTHON', 'ROTATOR_POSTGRES_BIN', 'ROTATOR_MARIADBD'] as const;
const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

// A benchmark started on its own (`npm run bench:workflow`, no test command around it) had no
// MOTO_PYTHON and stopped at startMoto's "run through scripts/test.sh" error.
describe('ensureLocalDependencies', () => {
  it('sets moto’s Python and the database servers from ensure-deps.sh when they are not set', () => {
    for (const name of NAMES) delete process.env[name];
    const lines: string[] = [];
    ensureLocalDependencies(NAMES, (line) => lines.push(line));
    expect(lines).toEqual([expect.stringContaining('scripts/lib/ensure-deps.sh')]);
    const python = process.env.MOTO_PYTHON as string;
    expect(execFileSync(python, ['-c', 'import moto.server; print("ok")'], { encoding: 'utf8' }).trim()).toBe(
      'ok',
    );
    expect(process.env.ROTATOR_POSTGRES_BIN).toMatch(/\S/);
    expect(process.env.ROTATOR_MARIADBD).toMatch(/\S/);
  }, 120_000);

  it('runs nothing when the test command or the demo has set them already', () => {
    for (const name of NAMES) process.env[name] = `/set/by/caller/${name}`;
    const lines: string[] = [];
    ensureLocalDependencies(NAMES, (line) => lines.push(line));
    expect(lines).toEqual([]);
    expect(process.env.MOTO_PYTHON).toBe('/set/by/caller/MOTO_PYTHON');
  });

  it('sets only what is asked and unset, leaving a value the caller set', () => {
    process.env.MOTO_PYTHON = '/set/by/caller/python';
    delete process.env.ROTATOR_POSTGRES_BIN;
    delete process.env.ROTATOR_MARIADBD;
    const lines: string[] = [];
    ensureLocalDependencies(['MOTO_PYTHON', 'ROTATOR_POSTGRES_BIN'], (line) => lines.push(line));
    expect(lines).toEqual([expect.stringContaining('for ROTATOR_POSTGRES_BIN (')]);
    expect(process.env.MOTO_PYTHON).toBe('/set/by/caller/python');
    expect(process.env.ROTATOR_POSTGRES_BIN).toMatch(/\S/);
    expect(process.env.ROTATOR_MARIADBD).toBeUndefined();
  }, 120_000);
});
