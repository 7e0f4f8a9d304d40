import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { stopChild } from '../../harness/process-cleanup';

const started: ChildProcess[] = [];

/**
 * A real node child running `onSigterm` as its SIGTERM handler (none: the default, death by
 * SIGTERM). It says "ready" once the handler is in place, so the test's SIGTERM cannot arrive
 * before it and kill the child the default way.
 */
async function child(onSigterm?: string): Promise<ChildProcess> {
  const handler = onSigterm ? `process.on('SIGTERM', () => { ${onSigterm} });` : '';
  const script = `${handler} console.log('ready'); setInterval(() => {}, 1000);`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(proc);
  await once(proc.stdout, 'data');
  return proc;
}

/** stopChild's outcome, or 'hung' if it has not resolved within `ms`: a test fails, not times out. */
async function stopWithin(proc: ChildProcess, graceMs: number, ms: number) {
  const t0 = Date.now();
  const outcome = await Promise.race([
    stopChild(proc, graceMs).then(() => 'stopped' as const),
    sleep(ms).then(() => 'hung' as const),
  ]);
  return { outcome, elapsedMs: Date.now() - t0 };
}

afterEach(() => {
  for (const proc of started.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
});

describe('stopChild', () => {
  it('SIGKILLs a child that ignores SIGTERM once the grace has passed', async () => {
    const proc = await child('/* ignored */');

    const { outcome, elapsedMs } = await stopWithin(proc, 300, 5000);

    expect(outcome).toBe('stopped');
    expect(proc.signalCode).toBe('SIGKILL');
    // not before the grace (timers may fire a millisecond early)
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('lets a child that exits on SIGTERM go by SIGTERM, without waiting out the grace', async () => {
    const proc = await child();

    // stopped within 3 s of a 10 s grace: it did not wait the grace out
    const { outcome } = await stopWithin(proc, 10_000, 3000);

    expect(outcome).toBe('stopped');
    expect(proc.signalCode).toBe('SIGTERM');
  });

  it('gives a child that shuts down slowly on SIGTERM the grace to finish', async () => {
    const proc = await child('setTimeout(() => process.exit(7), 300);');

    const { outcome } = await stopWithin(proc, 3000, 5000);

    expect(outcome).toBe('stopped');
    expect(proc.signalCode).toBeNull();
    expect(proc.exitCode).toBe(7);
  });

  it('resolves at once for a child that has already exited', async () => {
    const proc = await child();
    proc.kill('SIGKILL');
    await once(proc, 'exit');

    const { outcome } = await stopWithin(proc, 10_000, 1000);

    expect(outcome).toBe('stopped');
  });

  it('resolves for a child that never started (a failed spawn emits no exit)', async () => {
    const proc = spawn('/nonexistent/stop-child-test', [], { stdio: 'ignore' });
    const failed = once(proc, 'error');

    const { outcome } = await stopWithin(proc, 10_000, 1000);

    expect(outcome).toBe('stopped');
    expect(((await failed)[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
