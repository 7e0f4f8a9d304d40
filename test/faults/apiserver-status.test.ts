/**
 * Fault row E (review section 4): the kube-apiserver answers 429 with Retry-After and 503, through
 * the status fault proxy (scripts/faults/kube-fault-proxy.ts: TLS terminated with a certificate
 * signed by the cluster CA, registered as the local EKS cluster's endpoint in moto, so the steps
 * reach it the production way). The client waits what Retry-After says inside the step, a few
 * times (shared/kubernetes/retrying-transport.ts); what is left goes to the state machine's Retry.
 * Ends with the fault removed, the reconcile run until nothing is left to do, and the oracle.
 */
import { describe, expect, inject, it } from 'vitest';
import {
  type KubeFaultProxy,
  type KubeFaultRule,
  startKubeFaultProxy,
} from '../../scripts/faults/kube-fault-proxy';
import { eksEndpointThrough, faultHarness } from '../support/fault-harness';
import { expectOracle, FAULT_SEED, faultRow, type RowSecret, scaled } from '../support/fault-matrix';

const wf = faultHarness({ restartConcurrency: 2 });

let proxy: KubeFaultProxy | undefined;
const faults = () => {
  if (!proxy) throw new Error('kube fault proxy not started');
  return proxy;
};

eksEndpointThrough(
  async () => {
    proxy = await startKubeFaultProxy({
      upstream: inject('clusterServer'),
      caFile: inject('clusterCaFile'),
      seed: FAULT_SEED,
    });
    return proxy.server;
  },
  () => proxy?.stop(),
);

describe('fault matrix, API server status codes (TLS fault proxy)', () => {
  it('E: 429 with Retry-After and 503 at 20 %, and 8 s at 100 %', async () => {
    const row = faultRow(wf, 'E', 'apiserver 429 (Retry-After 1 s) 10 % + 503 10 %, 8 s at 100 %');
    const secrets: RowSecret[] = [await row.secret('one'), await row.secret('two')];
    const steady: KubeFaultRule[] = [
      { rate: 0.1, status: 429, retryAfterSeconds: 1 },
      { rate: 0.1 / 0.9, status: 503 },
    ];
    const burst: KubeFaultRule[] = [
      { rate: 0.5, status: 429, retryAfterSeconds: 1 },
      { rate: 1, status: 503 },
    ];
    faults().setRules(steady);
    let succeeded = 0;
    let runs = 0;
    for (let round = 0; round < scaled(7); round++) {
      for (const s of secrets) {
        if (round === 2 && s === secrets[0]) {
          // The burst: every API call refused for 8 s, from this rotation's first step on.
          faults().setRules(burst);
          setTimeout(() => faults().setRules(steady), 8_000);
        }
        const execution = await row.run(s, await row.rotate(s));
        runs++;
        if (execution.status === 'SUCCEEDED') succeeded++;
      }
    }
    faults().setRules([]);
    await row.quiesce();
    const injected = faults().injectedByStatus();
    row.note(
      `${Object.values(injected).reduce((a, b) => a + b, 0)} of ${faults().log.length} API calls refused ` +
        `(${Object.entries(injected)
          .map(([status, n]) => `${status}: ${n}`)
          .join(', ')}); ${succeeded}/${runs} first executions succeeded`,
    );
    const result = await row.oracle();
    expectOracle(result);
    // The review's bar for this row: at least 95 % converged while the faults last.
    expect(succeeded / runs).toBeGreaterThanOrEqual(0.95);
  });
});
