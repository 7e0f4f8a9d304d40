/**
 * The workflow harness as every row of the fault-injection matrix uses it: the step bundle's AWS
 * calls go through the AWS fault proxy (scripts/faults/fault-proxy.ts), which passes everything
 * to moto unless a row sets rules, and logs each call's X-Amz-Target. That log gives oracle 7
 * (bounded retries): a row's product calls per rotation against this file's fault-free baseline.
 * Call it at the top of a test file instead of `workflowHarness`; the proxy's beforeAll runs
 * before the harness's (the bundle reads AWS_ENDPOINT_URL when it starts).
 * @example const wf = faultHarness({ restartConcurrency: 2 }); wf.awsCalls.proxy().setRules([...]);
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { localEksCluster } from '../../harness/local-eks';
import { type FaultProxy, startFaultProxy } from '../../scripts/faults/fault-proxy';
import { startToxiproxy, type ToxiProxy, type Toxiproxy } from '../../scripts/faults/toxiproxy';
import { faultScale } from './fault-harness-scale';
import { type WorkflowHarnessOptions, workflowHarness } from './workflow-harness';

/** The matrix's seed: FAULT_SEED in the environment, else 1. */
export const FAULT_SEED = Number(process.env.FAULT_SEED ?? 1);

/**
 * The matrix's scale: FAULT_SCALE in the environment (a whole number from 1 to 50), else 1 (the
 * CI tier). The long tier (scripts/faults/long-tier.sh) multiplies the rotations of the rows whose
 * cost is per rotation (A, B, C, E, H, N, the three once-per-rotation Q rows and S) by it; the rows that wait out a fixed fault (I, K, L, …)
 * keep their count. vitest.config.ts multiplies the faults project's test timeout by it too.
 */
export const FAULT_SCALE = faultScale(process.env.FAULT_SCALE);

/** A row's rotation count (or rounds) at the matrix's scale. */
export const scaled = (count: number): number => count * FAULT_SCALE;

/** Product AWS calls by X-Amz-Target. */
export type CallCounts = Record<string, number>;

export interface Baseline {
  /** Product AWS calls per rotation without faults (one rotation, two consumers, one execution). */
  readonly perRotation: number;
  readonly byTarget: CallCounts;
}

export function faultHarness(options: WorkflowHarnessOptions = {}) {
  let proxy: FaultProxy | undefined;
  const started = () => {
    if (!proxy) throw new Error('faultHarness: the AWS fault proxy is not started');
    return proxy;
  };
  beforeAll(async () => {
    proxy = await startFaultProxy(inject('motoEndpoint'), { seed: FAULT_SEED });
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  const wf = workflowHarness({
    ...options,
    env: {
      ...options.env,
      // Read when the harness starts the bundle, after the proxy is up.
      get AWS_ENDPOINT_URL() {
        return started().endpoint;
      },
    },
  });

  /** The product's calls in the proxy's log from `mark` on (a test's own calls left out). */
  function since(mark: number): CallCounts {
    const counts: CallCounts = {};
    for (const e of started().log.slice(mark)) if (!e.caller) counts[e.target] = (counts[e.target] ?? 0) + 1;
    return counts;
  }

  let baseline: Promise<Baseline> | undefined;
  /**
   * Measured once per file, the first time a row asks (after the file's own set-up, so the step
   * reaches the API server as the rows do), with no proxy rules: one rotation of a secret with
   * two consumers, one execution. The step is warm by then, as in most of a row's rotations.
   */
  function measureBaseline(): Promise<Baseline> {
    baseline ??= (async () => {
      const secretId = await wf.secret(`baseline-${Date.now()}`);
      await wf.consumers(secretId, ['api', 'worker']);
      const versionId = await wf.rotate(secretId);
      const saved = started().log.length;
      const rules = started();
      rules.setRules([]);
      const execution = await wf.run(`baseline-${versionId}`, secretId, versionId);
      if (execution.status !== 'SUCCEEDED')
        throw new Error(`the fault-free baseline rotation failed: ${execution.error?.name}`);
      const byTarget = since(saved);
      return { perRotation: Object.values(byTarget).reduce((a, b) => a + b, 0), byTarget };
    })();
    return baseline;
  }

  return Object.assign(wf, {
    awsCalls: {
      /** The AWS fault proxy (after beforeAll): set rules, read its log. */
      proxy: started,
      /** The current position in the proxy's log. */
      mark: () => started().log.length,
      since,
      baseline: measureBaseline,
    },
  });
}

export type FaultHarness = ReturnType<typeof faultHarness>;

/**
 * For a file whose rows put a proxy in front of the API server: a beforeAll starts it (`start`
 * returns its https URL) and registers it as the local EKS cluster's endpoint in moto, so the step
 * bundle, which resolves the cluster through DescribeCluster, goes through it while ESO and the
 * test's own client go direct; an afterAll puts the API server itself back, then runs `stop`.
 * Call it after `faultHarness`, whose beforeAll registered the API server itself: this one must run
 * second, and before the step bundle first asks (it keeps the endpoint while it lives).
 * @example eksEndpointThrough(async () => (kube = await startKubeFaultProxy(opts)).server, () => kube?.stop());
 */
export function eksEndpointThrough(
  start: () => Promise<string>,
  stop: () => Promise<void> | undefined,
): void {
  const register = (server: string) =>
    localEksCluster(inject('motoEndpoint'), {
      name: inject('eksClusterName'),
      server,
      caFile: inject('clusterCaFile'),
    });
  beforeAll(async () => {
    await register(await start());
  });
  afterAll(async () => {
    await register(inject('clusterServer'));
    await stop();
  });
}

/**
 * The API server behind toxiproxy for the whole file (eksEndpointThrough): returns the proxy's
 * getter, for the rows' toxics (latency, limit_data, timeout) and outages (setEnabled).
 * @example const apiProxy = apiServerThroughToxiproxy(); await apiProxy().addToxic({ ... });
 */
export function apiServerThroughToxiproxy(): () => ToxiProxy {
  let toxiproxy: Toxiproxy | undefined;
  let api: ToxiProxy | undefined;
  eksEndpointThrough(
    async () => {
      toxiproxy = await startToxiproxy();
      const server = new URL(inject('clusterServer'));
      api = await toxiproxy.proxy('kube-apiserver', `${server.hostname}:${server.port}`);
      return `https://${api.listen}`;
    },
    () => toxiproxy?.stop(),
  );
  return () => {
    if (!api) throw new Error('toxiproxy not started');
    return api;
  };
}
