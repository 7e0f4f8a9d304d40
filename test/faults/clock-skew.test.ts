/**
 * Fault row N (review section 4): the step bundle's clock shifted by +5 s and by −5 s against the
 * API server's and ESO's (harness/shifted-clock.mjs, preloaded into the BundleHost process
 * with NODE_OPTIONS). Sync confirmation must not compare clocks across machines (review M7): no
 * false sync failure either way. Each half ends with the reconcile and the oracle.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, scaled } from '../support/fault-matrix';

const SHIFTED_CLOCK = fileURLToPath(new URL('../../harness/shifted-clock.mjs', import.meta.url));

for (const [row, offsetMs] of [
  ['N+5s', 5_000],
  ['N-5s', -5_000],
] as const) {
  describe(`fault matrix, clock skew ${offsetMs > 0 ? '+' : '−'}${Math.abs(offsetMs) / 1000} s on the step host`, () => {
    const wf = faultHarness({
      restartConcurrency: 2,
      env: { NODE_OPTIONS: `--import ${SHIFTED_CLOCK}`, ROTATOR_TEST_CLOCK_OFFSET_MS: String(offsetMs) },
    });

    it(`${row}: no false sync failure`, async () => {
      const r = faultRow(
        wf,
        row,
        `step host clock ${offsetMs > 0 ? '+' : '−'}${Math.abs(offsetMs) / 1000} s (shifted-clock)`,
      );
      const s = await r.secret('skew');
      for (let i = 0; i < scaled(8); i++) {
        const execution = await r.run(s, await r.rotate(s));
        expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
      }
      await r.quiesce();
      const result = await r.oracle();
      expectOracle(result);
      expect(result.failures).toBe(0);
    });
  });
}
