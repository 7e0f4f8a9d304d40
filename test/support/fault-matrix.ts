/**
 * One row of the fault-injection matrix (review section 4) over the workflow harness: its secrets
 * and consumers, the rotations it made, the executions it ran, the quiesce (reconcile until there
 * is nothing to do, as the sweep does) and the oracle, checked after the fault is removed:
 * 1. convergence: the ledger says succeeded for AWSCURRENT, every consumer's rollout is done with
 *    the current marker, and the Kubernetes Secret's data equals AWSCURRENT;
 * 2. zero lost rotations: every version made AWSCURRENT has a propagation record or an alert;
 * 3. zero duplicate rollouts per workload and AWSCURRENT move (from the ReplicaSets' templates:
 *    distinct restartedAt values per marker);
 * 4. every failed execution alerted (SNS → SQS in moto), and no alert without a failure;
 * 5. no secret value in the steps' captured output;
 * 6. no claim in progress after quiesce;
 * 7. bounded retries: the product's AWS calls per rotation (counted by X-Amz-Target at the AWS
 *    fault proxy, test/support/fault-harness.ts) at most 3× the file's fault-free baseline;
 * 8. limits: each execution's history (estimated from the local run's events) under 25,000
 *    events and every state's input and output under 256 KiB (Step Functions' quotas, which the
 *    local interpreter does not enforce).
 * Each row's result goes to .test-results/faults/<row>.json; the project's global teardown prints
 * the table (test/faults/global-setup.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { LocalExecution } from '../../harness/local-workflow';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { rolloutState } from '../../shared/propagation/rollout-status';
import { decideReconcile } from '../../shared/sweep/plan-reconcile';
import type { Baseline, CallCounts, FaultHarness } from './fault-harness';
import { RESTARTED_AT } from './workflow-harness';

export { FAULT_SCALE, FAULT_SEED, scaled } from './fault-harness';

export const FAULT_RESULTS_DIR = join(process.cwd(), '.test-results', 'faults');

/** Oracle 7: a row's AWS calls per rotation may be at most this many times the fault-free baseline's. */
export const MAX_CALLS_OVER_BASELINE = 3;
/** Oracle 7's problem text, which {@link expectOracle} can leave to a row that bounds its calls otherwise. */
const CALLS_OVER_BASELINE = 'AWS calls per rotation, over';
/** Oracle 8: Step Functions' quotas on a Standard execution's history and on a state's input or output. */
export const MAX_HISTORY_EVENTS = 25_000;
export const MAX_STATE_BYTES = 256 * 1024;

export interface RowResult {
  readonly row: string;
  readonly fault: string;
  /** AWSCURRENT moves made during the row. */
  readonly rotations: number;
  readonly secrets: number;
  /** Secrets that converged on their AWSCURRENT version. */
  readonly converged: number;
  readonly duplicates: number;
  readonly lost: number;
  /** Failed executions (including reconcile runs). */
  readonly failures: number;
  /** Alerts that reached the SQS queue through SNS. */
  readonly alerts: number;
  readonly leaks: number;
  readonly staleClaims: number;
  readonly executions: number;
  /** Oracle 7: the product's AWS calls during the row, per rotation, and the file's fault-free baseline. */
  readonly awsCallsPerRotation: number;
  readonly baselineCallsPerRotation: number;
  readonly awsCallsByTarget: CallCounts;
  /** Oracle 8: the longest execution history (estimated events) and the largest state (JSON bytes). */
  readonly maxHistoryEvents: number;
  readonly largestStateBytes: number;
  readonly seconds: number;
  readonly notes: string;
  /** What did not hold, for the test's message. */
  readonly problems: readonly string[];
}

export interface RowSecret {
  readonly secretId: string;
  readonly namespace: string;
  readonly workloads: readonly string[];
  /** Versions made AWSCURRENT by the row, oldest first. */
  readonly versions: string[];
  /**
   * Versions the row saw superseded before their propagation began (the starter ignored their
   * late event, or their execution's Claim found AWSCURRENT moved on): the oracle counts them as
   * carried by a later version's succeeded propagation, and only these.
   */
  readonly superseded: Set<string>;
}

/** The row's fixture and bookkeeping; call `oracle()` at the end. */
export function faultRow(wf: FaultHarness, row: string, fault: string) {
  const secrets: RowSecret[] = [];
  let callsMark = wf.awsCalls.mark();
  let ownBaseline: Baseline | undefined;
  const executions: LocalExecution[] = [];
  const alerts: { Subject?: string; Message: string }[] = [];
  const notes: string[] = [];
  const started = Date.now();
  let runs = 0;

  async function drainAlerts() {
    for (;;) {
      const got = await wf.alertsReceived();
      if (got.length === 0) return;
      alerts.push(...got);
    }
  }

  async function current(secretId: string) {
    const out = await wf.fx.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    return { versionId: out.VersionId as string, value: out.SecretString as string };
  }

  const api = {
    row,
    secrets: secrets as readonly RowSecret[],
    executions: executions as readonly LocalExecution[],
    note(text: string) {
      notes.push(text);
    },
    /** A secret `${row}-${name}` with an ExternalSecret and Deployments reading its Secret. */
    async secret(name: string, workloads: readonly string[] = ['api', 'worker'], failing: string[] = []) {
      const secretId = await wf.secret(`${row.toLowerCase()}-${name}`);
      const namespace = await wf.consumers(secretId, [...workloads], failing);
      const s: RowSecret = { secretId, namespace, workloads, versions: [], superseded: new Set() };
      secrets.push(s);
      return s;
    },
    /**
     * Oracle 7's baseline for a row whose rotations do more than the file's baseline (which is a
     * propagation only): e.g. row T's include the rotation function's four steps, so its baseline is
     * a fault-free rotation through the same steps, measured by the row in the same run. The row's
     * own count starts here, after the baseline's calls.
     */
    useBaseline(baseline: Baseline) {
      ownBaseline = baseline;
      callsMark = wf.awsCalls.mark();
    },
    /** A consumer the row deleted: the oracle no longer expects it to carry the marker. */
    forget(s: RowSecret, workload: string) {
      (s as { workloads: readonly string[] }).workloads = s.workloads.filter((w) => w !== workload);
    },
    /** A new AWSCURRENT version (the harness's client, straight to moto unless `put` is given). */
    async rotate(s: RowSecret, put: (secretId: string) => Promise<string> = wf.rotate) {
      const versionId = await put(s.secretId);
      s.versions.push(versionId);
      return versionId;
    },
    /** One execution to its end, counted in the row. */
    async run(s: RowSecret, versionId: string, extra: object = {}) {
      const execution = await wf.run(`${row}-${++runs}`, s.secretId, versionId, extra);
      executions.push(execution);
      return execution;
    },
    /**
     * As the sweep's reconcile: for each secret whose AWSCURRENT version has not reached the
     * clusters (decideReconcile on the ledger's summary), one propagation; until none is needed,
     * at most `passes` passes. `start` replaces the direct execution (row D: through the starter,
     * as the sweep's reconciler starts it); it resolves once the execution it started has ended.
     */
    async quiesce(
      options: {
        readonly passes?: number;
        readonly leaseMs?: number;
        readonly start?: (s: RowSecret, versionId: string) => Promise<unknown>;
      } = {},
    ) {
      const { passes = 3, leaseMs = 15 * 60_000 } = options;
      for (let pass = 0; pass < passes; pass++) {
        const summaries = await wf.ledger.summaries(secrets.map((s) => s.secretId));
        let started = 0;
        for (const s of secrets) {
          const described = await wf.fx.aws.secretsManager.send(
            new DescribeSecretCommand({ SecretId: s.secretId }),
          );
          const decision = decideReconcile(
            { versionIdsToStages: described.VersionIdsToStages ?? {} },
            summaries.get(s.secretId),
            { now: new Date(), leaseMs },
          );
          if (decision.action !== 'start') continue;
          started++;
          if (options.start) await options.start(s, decision.versionId);
          else await api.run(s, decision.versionId, { trigger: 'reconcile', actor: 'sweep' });
        }
        if (started === 0) return pass;
      }
      return passes;
    },
    async oracle(): Promise<RowResult> {
      const problems: string[] = [];
      const apps = wf.fx.admin.makeApiClient(AppsV1Api);
      const rotator = wf.fx.asRotator();
      let converged = 0;
      let duplicates = 0;
      let lost = 0;
      let staleClaims = 0;
      let superseded = 0;
      await sleep(1_000);
      await drainAlerts();
      // The queue is the harness's, shared by the rows of a file: only alerts naming this row's secrets count.
      // Failure alerts only: a succeeded propagation may also notify (its subject says succeeded).
      const mine = alerts.filter(
        (a) =>
          /fail/i.test(a.Subject ?? '') &&
          secrets.some((s) => `${a.Subject} ${a.Message}`.includes(s.secretId)),
      );
      const summaries = await wf.ledger.summaries(secrets.map((s) => s.secretId));
      for (const s of secrets) {
        const now = await current(s.secretId);
        const history = await wf.ledger.history(s.secretId, { limit: 200 });
        const propagations = history.flatMap((e) => (e.kind === 'propagation' ? [e] : []));
        const problemsBefore = problems.length;
        // 1. convergence
        if (!propagations.some((p) => p.versionId === now.versionId && p.status === 'succeeded'))
          problems.push(`${s.secretId}: no succeeded propagation of AWSCURRENT ${now.versionId}`);
        const key = restartedMarkerKey(s.secretId);
        for (const workload of s.workloads) {
          const template = await wf.podTemplate(s.namespace, workload);
          const marker = template.annotations[key];
          if (!marker?.startsWith(`${now.versionId}#`))
            problems.push(`${s.namespace}/${workload}: marker ${marker} is not AWSCURRENT's`);
          const rollout = rolloutState(
            await rotator.getRollout({ kind: 'Deployment', namespace: s.namespace, name: workload }),
          );
          if (rollout.state !== 'done') problems.push(`${s.namespace}/${workload}: rollout ${rollout.state}`);
        }
        const expected = (JSON.parse(now.value) as { password: string }).password;
        let inCluster: string | undefined;
        for (let i = 0; i < 20; i++) {
          inCluster = await wf.fx.secretValue(s.namespace, 'db-secret', 'password');
          if (inCluster === expected) break;
          await sleep(500);
        }
        if (inCluster !== expected) problems.push(`${s.secretId}: the Kubernetes Secret is not AWSCURRENT`);
        if (problems.length === problemsBefore) converged++;
        // 3. duplicate rollouts: distinct restartedAt values per workload and marker (version#move)
        const sets = await apps.listNamespacedReplicaSet({ namespace: s.namespace });
        const seen = new Map<string, Set<string>>();
        for (const rs of sets.items) {
          const owner = rs.metadata?.ownerReferences?.[0]?.name;
          const annotations = rs.spec?.template?.metadata?.annotations ?? {};
          const marker = annotations[key];
          if (!owner || !marker) continue;
          const id = `${owner} ${marker}`;
          const at = seen.get(id) ?? new Set<string>();
          at.add(annotations[RESTARTED_AT] ?? '');
          seen.set(id, at);
        }
        for (const [id, at] of seen) {
          if (at.size > 1) {
            duplicates += at.size - 1;
            problems.push(`${s.namespace}: ${at.size} rollouts for ${id}`);
          }
        }
        // 2. lost rotations: a version made AWSCURRENT with neither a propagation record nor an
        // alert. A version the row saw superseded before its propagation started (row O: its
        // event came after the next version's and the starter ignored it; O-late: its Claim found
        // AWSCURRENT moved on) is carried by a later version's succeeded propagation, which the
        // row's later version must then have. No other version is excused.
        const alerted = mine.some((a) => `${a.Subject} ${a.Message}`.includes(s.secretId));
        s.versions.forEach((versionId, i) => {
          if (propagations.some((p) => p.versionId === versionId) || alerted) return;
          const later = s.versions.slice(i + 1);
          const carried = propagations.some((p) => later.includes(p.versionId) && p.status === 'succeeded');
          if (s.superseded.has(versionId) && carried) {
            superseded++;
            return;
          }
          lost++;
          problems.push(`${s.secretId}: version ${versionId} neither propagated nor alerted`);
        });
        // 6. stale claims
        if (summaries.get(s.secretId)?.lastPropagation?.status === 'in-progress') {
          staleClaims++;
          problems.push(`${s.secretId}: a claim is still in progress after quiesce`);
        }
      }
      if (superseded > 0)
        notes.push(`${superseded} version(s) superseded before propagating, carried by a later one`);
      // 4. alerts: every failed execution went through Alert, and the queue got one message each
      const failed = executions.filter((e) => e.status === 'FAILED');
      for (const e of failed) {
        if (!e.states.includes('Alert'))
          problems.push(`${e.name}: failed without an alert (${e.error?.name})`);
      }
      if (mine.length !== failed.length) {
        const subjects = mine.map((a) => a.Subject).join(' | ');
        problems.push(`${mine.length} failure alerts for ${failed.length} failures: ${subjects}`);
      }
      if (failed.length > 0) {
        const byError = new Map<string, number>();
        for (const e of failed)
          byError.set(e.error?.name ?? '?', (byError.get(e.error?.name ?? '?') ?? 0) + 1);
        notes.push(`failed: ${[...byError].map(([name, n]) => `${n}× ${name}`).join(', ')}`);
      }
      // 5. leaks
      const leaks = wf.leakedValues().length;
      if (leaks > 0) problems.push(`${leaks} secret values in the steps' output`);
      // 7. bounded retries: the row's product calls (counted before the baseline adds its own)
      const rotations = secrets.reduce((n, s) => n + s.versions.length, 0);
      const byTarget = wf.awsCalls.since(callsMark);
      const calls = Object.values(byTarget).reduce((a, b) => a + b, 0);
      const baseline = ownBaseline ?? (await wf.awsCalls.baseline());
      const perRotation = calls / Math.max(1, rotations);
      if (perRotation > MAX_CALLS_OVER_BASELINE * baseline.perRotation) {
        const grew = Object.entries(byTarget)
          .map(([t, n]) => [t, n / Math.max(1, rotations) / (baseline.byTarget[t] ?? 0.5)] as const)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([t, x]) => `${t} ×${x.toFixed(1)}`);
        problems.push(
          `${perRotation.toFixed(1)} ${CALLS_OVER_BASELINE} ${MAX_CALLS_OVER_BASELINE}× the baseline's ` +
            `${baseline.perRotation} (grew most: ${grew.join(', ')})`,
        );
      }
      // 8. limits
      let maxHistoryEvents = 0;
      let largestStateBytes = 0;
      for (const e of executions) {
        maxHistoryEvents = Math.max(maxHistoryEvents, e.historyEvents);
        largestStateBytes = Math.max(largestStateBytes, e.largestState.bytes);
        if (e.historyEvents >= MAX_HISTORY_EVENTS)
          problems.push(`${e.name}: about ${e.historyEvents} history events (quota ${MAX_HISTORY_EVENTS})`);
        if (e.largestState.bytes >= MAX_STATE_BYTES)
          problems.push(
            `${e.name}: state ${e.largestState.state} is ${e.largestState.bytes} bytes (quota 256 KiB)`,
          );
      }
      const result: RowResult = {
        row,
        fault,
        rotations,
        secrets: secrets.length,
        converged,
        duplicates,
        lost,
        failures: failed.length,
        alerts: mine.length,
        leaks,
        staleClaims,
        executions: executions.length,
        awsCallsPerRotation: Math.round(perRotation * 10) / 10,
        baselineCallsPerRotation: baseline.perRotation,
        awsCallsByTarget: byTarget,
        maxHistoryEvents,
        largestStateBytes,
        seconds: Math.round((Date.now() - started) / 1000),
        notes: notes.join('; '),
        problems,
      };
      mkdirSync(FAULT_RESULTS_DIR, { recursive: true });
      writeFileSync(join(FAULT_RESULTS_DIR, `${row}.json`), `${JSON.stringify(result, null, 2)}\n`);
      return result;
    },
  };
  return api;
}

/**
 * The oracle's verdict as every row asserts it: no problem, every secret converged, and no
 * duplicate rollout, lost rotation, leaked value or stale claim. `allowCallsOverBaseline` leaves
 * oracle 7's problem to a row that bounds its AWS calls another way (e.g. row Q's every-attempt
 * crashes redo a step's calls once per attempt, by the retry budget).
 * @example expectOracle(await row.oracle(), { allowCallsOverBaseline: true })
 */
export function expectOracle(
  result: RowResult,
  options: { readonly allowCallsOverBaseline?: boolean } = {},
): void {
  const problems = options.allowCallsOverBaseline
    ? result.problems.filter((p) => !p.includes(CALLS_OVER_BASELINE))
    : result.problems;
  expect(problems, problems.join('\n')).toEqual([]);
  expect(result.converged).toBe(result.secrets);
  expect(result.duplicates).toBe(0);
  expect(result.lost).toBe(0);
  expect(result.leaks).toBe(0);
  expect(result.staleClaims).toBe(0);
}

/** The results table (markdown) from rows' results. */
export function resultsTable(results: readonly RowResult[]): string {
  const lines = [
    '| row | fault | rotations | converged | duplicates | lost | failures alerted | leaks | stale claims | executions | AWS calls/rotation (baseline) | max history events | largest state KiB | s | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of [...results].sort((a, b) => a.row.localeCompare(b.row))) {
    lines.push(
      `| ${r.row} | ${r.fault} | ${r.rotations} | ${r.converged}/${r.secrets} | ${r.duplicates} | ${r.lost} | ` +
        `${Math.min(r.alerts, r.failures)}/${r.failures}${r.alerts > r.failures ? ` (+${r.alerts - r.failures} extra)` : ''} | ` +
        `${r.leaks} | ${r.staleClaims} | ${r.executions} | ${callsCell(r)} | ${r.maxHistoryEvents ?? '–'} | ` +
        `${r.largestStateBytes === undefined ? '–' : (r.largestStateBytes / 1024).toFixed(1)} | ${r.seconds} | ${r.notes} |`,
    );
  }
  return lines.join('\n');
}

function callsCell(r: RowResult): string {
  if (r.awsCallsPerRotation === undefined || !r.baselineCallsPerRotation) return '–';
  const times = r.awsCallsPerRotation / r.baselineCallsPerRotation;
  return `${r.awsCallsPerRotation} (${r.baselineCallsPerRotation}, ×${times.toFixed(1)})`;
}
