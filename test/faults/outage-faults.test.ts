/**
 * Fault rows F, G and S (review section 4): the API server black-holed for a while (toxiproxy
 * `timeout`), the API server down for longer than the retry budget (the proxy disabled: connections
 * refused), and a tenant's ExternalSecret whose `find.name.regexp` backtracks catastrophically in a
 * backtracking engine. The step bundle reaches the kube-apiserver through toxiproxy, registered as
 * the local EKS cluster's endpoint in moto (as in cluster-faults.test.ts); ESO and the test's own
 * client go direct. Each row ends with the fault removed, the reconcile, and the oracle.
 *
 * The retry budget, scaled down: a step's API call gives up after API_CONNECT_TIMEOUT_MS (5 s, TCP
 * and TLS) or API_REQUEST_TIMEOUTS (15 s to the headers), product constants
 * (shared/kubernetes/kubernetes-transport.ts), and the state machine retries the step 6 times. Step
 * Functions waits 2 s doubling up to 60 s (full jitter) between attempts; the local interpreter
 * waits 100 ms (harness/local-workflow.ts). So locally a black hole of 20 s is inside the
 * budget (7 attempts of 5–15 s each), and refused connections spend it in about a second.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LocalExecution } from '../../harness/local-workflow';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { apiServerThroughToxiproxy, faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, type RowSecret, scaled } from '../support/fault-matrix';

/** Each Lambda task of the running execution: its action and when it was invoked (rows run one at a time). */
let trace: { readonly action: string; readonly at: number }[] = [];
/** A row's fault trigger: awaited before a task with its action and the how-manieth call of it this is. */
let trigger: ((action: string, nth: number) => Promise<void>) | undefined;
/** The ExternalSecrets (`namespace/name`) each Resync task was given to annotate, from the plan it carries. */
let resynced: string[][] = [];

// Each restart call looks once and returns (poll budget 0), so a move's restarts take several
// calls and a fault can start between two of them (row G: after the canary, before the rest).
const wf = faultHarness({
  restartConcurrency: 2,
  env: { ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: '0' },
  beforeInvoke: async (_arn, payload) => {
    const { action = '?', plan } = payload as {
      action?: string;
      plan?: { resync?: { namespace: string; name: string }[] };
    };
    trace.push({ action, at: performance.now() });
    if (action === 'resync') resynced.push((plan?.resync ?? []).map((t) => `${t.namespace}/${t.name}`));
    await trigger?.(action, trace.filter((t) => t.action === action).length);
  },
});

/** Within the local budget: at least 7 attempts of 5 s (connect timeout) + 100 ms each outlast it. */
const HOLE_MS = 20_000;
/** 1 + the Retry's MaxAttempts (infra/lib/propagation-workflow.ts, stepRetry). */
const STEP_ATTEMPTS = 7;
/** Where F and G start their fault: before the plan, and after the canary's restart (the second restart call). */
const FAULT_POINTS = [
  { action: 'plan', nth: 1 },
  { action: 'advance-restarts', nth: 2 },
] as const;

const apiProxy = apiServerThroughToxiproxy();

/** How many of the secret's consumers carry `versionId`'s marker now. */
async function markedFor(s: RowSecret, versionId: string): Promise<number> {
  const key = restartedMarkerKey(s.secretId);
  const templates = await Promise.all(s.workloads.map((w) => wf.podTemplate(s.namespace, w)));
  return templates.filter((t) => t.annotations[key]?.startsWith(`${versionId}#`)).length;
}

/**
 * One execution with a fault that `open` starts before the `nth` call of `action` and `close` ends
 * (after `holdMs`, or when the execution has ended). Returns the execution and the calls of `action`
 * made while the fault lasted (the first one included).
 */
async function runWithFault(
  row: ReturnType<typeof faultRow>,
  s: RowSecret,
  at: { readonly action: string; readonly nth: number },
  fault: { open(): Promise<void>; close(): Promise<void>; readonly holdMs?: number },
) {
  const versionId = await row.rotate(s);
  trace = [];
  let opened: number | undefined;
  let closed: number | undefined;
  let timer: Promise<void> | undefined;
  const close = async () => {
    if (opened === undefined || closed !== undefined) return;
    closed = performance.now();
    await fault.close();
  };
  trigger = async (action, nth) => {
    if (action !== at.action || nth !== at.nth) return;
    trigger = undefined;
    opened = trace.at(-1)?.at; // this call's own entry, pushed just before the trigger ran
    await fault.open();
    if (fault.holdMs !== undefined) timer = sleep(fault.holdMs).then(close);
  };
  let execution: LocalExecution;
  try {
    execution = await row.run(s, versionId);
  } finally {
    trigger = undefined;
    await (timer ?? close());
    await apiProxy().reset();
  }
  const start = opened;
  if (start === undefined) throw new Error(`the fault never opened: no call ${at.nth} of ${at.action}`);
  const end = closed ?? performance.now();
  const calls = trace.filter((t) => t.action === at.action && t.at >= start && t.at < end).length;
  return { versionId, execution, calls, faultSeconds: Math.round((end - start) / 1000) };
}

/**
 * How long V8's backtracking RegExp takes on each of two `names`, in ms: warmed first (V8 interprets a
 * regexp's first runs, then compiles it), the fastest of two runs each.
 */
function backtrackingMs(pattern: string, names: readonly [string, string]): [number, number] {
  const re = new RegExp(pattern);
  for (let i = 0; i < 3; i++) re.test('s-aaaa-x');
  const once = (name: string) => {
    const started = performance.now();
    re.test(name);
    return performance.now() - started;
  };
  return [Math.min(once(names[0]), once(names[0])), Math.min(once(names[1]), once(names[1]))];
}

/** The nearest-rank percentile of `values`. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('fault matrix, API server outages and a catastrophic regexp', () => {
  it('F: API server black hole (toxiproxy timeout) for 20 s: retried within the budget, the execution succeeds; no false success', async () => {
    const row = faultRow(wf, 'F', 'apiserver black hole 20 s (toxiproxy timeout), at Plan, mid-restarts');
    const s = await row.secret('hole', ['api', 'worker', 'web']);
    const hole = {
      // Both directions: nothing the step sends arrives, nothing comes back (timeout 0: held open).
      open: async () => {
        for (const stream of ['downstream', 'upstream'] as const)
          await apiProxy().addToxic({
            name: `hole-${stream}`,
            type: 'timeout',
            stream,
            attributes: { timeout: 0 },
          });
      },
      close: () => apiProxy().reset(),
      holdMs: HOLE_MS,
    };
    for (const at of FAULT_POINTS) {
      const { versionId, execution, calls, faultSeconds } = await runWithFault(row, s, at, hole);
      const marked = await markedFor(s, versionId);
      row.note(
        `hole at ${at.action} #${at.nth}: ${execution.status}, ${calls} ${at.action} calls in ${faultSeconds} s`,
      );
      // The fault bit: the call that met it did not answer, so the step ran again.
      expect(calls).toBeGreaterThanOrEqual(2);
      // HOLE_MS is inside the retry budget: the execution must get through, not fail and alert.
      expect(execution.status, `${execution.name}: ${execution.error?.name}`).toBe('SUCCEEDED');
      // No false success: it restarted every consumer and recorded it.
      expect(marked).toBe(s.workloads.length);
      const { entry } = await wf.propagation(s.secretId);
      expect([entry.versionId, entry.status]).toEqual([versionId, 'succeeded']);
    }
    await row.quiesce();
    const result = await row.oracle();
    expectOracle(result);
    expect({ failures: result.failures, alerts: result.alerts }).toEqual({ failures: 0, alerts: 0 });
  });

  it('G: API server down (proxy disabled) longer than the retry budget: cluster failed and alerted; converges after', async () => {
    const row = faultRow(
      wf,
      'G',
      'apiserver down (toxiproxy disabled) past the budget, at Plan, mid-restarts',
    );
    const s = await row.secret('down', ['api', 'worker', 'web']);
    const down = { open: () => apiProxy().setEnabled(false), close: () => apiProxy().setEnabled(true) };
    for (const at of FAULT_POINTS) {
      // The second outage starts after the canary's restart: one consumer has the new marker.
      const { versionId, execution, calls, faultSeconds } = await runWithFault(row, s, at, down);
      const restartedBefore = await markedFor(s, versionId);
      expect(execution.status).toBe('FAILED');
      expect(execution.states).toContain('Alert');
      // The whole budget was spent on the step the outage met, then the cluster was given up.
      expect(calls).toBe(STEP_ATTEMPTS);
      const { entry } = await wf.propagation(s.secretId);
      const recorded = {
        versionId: entry.versionId,
        status: entry.status,
        cluster: entry.clusters?.[0]?.outcome,
      };
      expect(recorded).toEqual({ versionId, status: 'failed', cluster: 'failed' });
      if (at.action === 'advance-restarts') {
        expect(restartedBefore).toBeGreaterThanOrEqual(1);
        expect(restartedBefore).toBeLessThan(s.workloads.length);
      }
      const passes = await row.quiesce();
      row.note(
        `down at ${at.action} #${at.nth}: ${calls} calls in ${faultSeconds} s, ${restartedBefore}/${s.workloads.length} ` +
          `restarted before; reconciled in ${passes} pass(es)`,
      );
      expect(await markedFor(s, versionId)).toBe(s.workloads.length);
    }
    const result = await row.oracle();
    expectOracle(result);
    expect({ failures: result.failures, alerts: result.alerts }).toEqual({ failures: 2, alerts: 2 });
  });

  it('S: tenant ExternalSecrets with catastrophic find.name.regexp: evaluated, plan step p99 < 2 s, oracle holds', async () => {
    const row = faultRow(wf, 'S', "tenant ExternalSecrets' catastrophic find.name.regexp");
    // A run of a's that ends in a non-match: exponential for a backtracking engine, linear in RE2
    // (greedy-1 still matches, empty, at the end; it gets there after the backtracking).
    const runLength = 40;
    const s = await row.secret(`${'a'.repeat(runLength)}-x`);
    const patterns = ['(a+)+$', '(a|a?)+$', '(([a-z]|[a-z/-])+)+!$'];
    const tenant = await wf.fx.namespaceWithStore('tenant');
    for (const [i, regexp] of patterns.entries()) {
      // With a path, ESO (and the planner) match the regexp against the whole name under it.
      await wf.fx.externalSecret(tenant, `greedy-${i}`, 'unused', {
        data: [],
        dataFrom: [{ find: { path: wf.prefix, name: { regexp } } }],
      });
    }
    // A benign find beside them that selects the secret: a planner that skipped the tenant's finds
    // (instead of evaluating the catastrophic ones) would leave it out of the plan.
    await wf.fx.externalSecret(tenant, 'benign', 'unused', {
      data: [],
      dataFrom: [{ find: { path: wf.prefix, name: { regexp: `a{${runLength}}-x$` } } }],
    });
    // The control: the same name through V8's backtracking RegExp, with shorter runs of a's.
    const named = (n: number) => s.secretId.replace('a'.repeat(runLength), 'a'.repeat(n));
    const [v8At20, v8At24] = backtrackingMs(patterns[0] as string, [named(20), named(24)]);
    // Exponential: four more a's cost about 16 times as long.
    expect(v8At24).toBeGreaterThan(4 * v8At20);
    const planSeconds: number[] = [];
    for (let i = 0; i < scaled(5); i++) {
      trace = [];
      resynced = [];
      const execution = await row.run(s, await row.rotate(s));
      expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
      // The regexps were evaluated, as Go's RE2 does: the benign find is resynced and so is
      // greedy-1, whose `a?` lets `(a|a?)+$` match empty at the end of any name; the other two
      // select nothing. Skipping the finds, or counting them as selecting, fails here.
      const tenantTargets = resynced.flat().filter((t) => t.startsWith(`${tenant}/`));
      expect(tenantTargets.sort()).toEqual([`${tenant}/benign`, `${tenant}/greedy-1`]);
      // From the plan's invocation to the next task's: the step's time plus the interpreter's.
      trace.forEach((t, j) => {
        const next = trace[j + 1];
        if (t.action === 'plan' && next) planSeconds.push((next.at - t.at) / 1000);
      });
    }
    const p99 = percentile(planSeconds, 99);
    row.note(
      `plan step p99 ${p99.toFixed(2)} s, median ${percentile(planSeconds, 50).toFixed(2)} s over ${planSeconds.length} ` +
        `plans, ${patterns.length} patterns, ${runLength} a's; V8 on (a+)+$: ${Math.round(v8At20)} ms at 20 a's, ` +
        `${Math.round(v8At24)} ms at 24`,
    );
    expect(planSeconds).toHaveLength(scaled(5));
    expect(p99).toBeLessThan(2);
    await row.quiesce();
    expectOracle(await row.oracle());
  });
});
