/**
 * The orchestrator's requests as kube-apiserver's API Priority and Fairness metrics count them,
 * per verb, through the FlowSchemas bench:workflow creates (`bench-rotator-<verb>`, see
 * k8s.io/apiserver pkg/util/flowcontrol/metrics): how many were dispatched, the seconds they spent
 * executing in the server, and the seconds they waited in APF's queues first. With a wave's own
 * time beside them, they tell the server's share of it from the client's.
 */

/** Per verb: `counts[verb]` requests; `seconds['<verb> executing']`, `seconds['<verb> queued']`. */
export interface OrchestratorRequests {
  readonly counts: Record<string, number>;
  readonly seconds: Record<string, number>;
}

/** Reads the figures from the text of kube-apiserver's /metrics. */
export function orchestratorRequests(metrics: string): OrchestratorRequests {
  const counts: Record<string, number> = {};
  const seconds: Record<string, number> = {};
  const add = (into: Record<string, number>, key: string, value: string) => {
    into[key] = (into[key] ?? 0) + Number(value);
  };
  // Each sample of `metric` whose flow schema is one of ours: [verb, labels, value].
  const ours = function* (metric: string) {
    for (const [, labels = '', value = ''] of metrics.matchAll(
      new RegExp(`^apiserver_flowcontrol_${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'),
    )) {
      const verb = /flow_schema="bench-rotator-(\w+)"/.exec(labels)?.[1];
      if (verb) yield [verb, labels, value] as const;
    }
  };
  for (const [verb, , n] of ours('dispatched_requests_total')) add(counts, verb, n);
  for (const [verb, , n] of ours('request_execution_seconds_sum')) add(seconds, `${verb} executing`, n);
  // execute="false": refused before any queue. "true" is every other request, also one that timed
  // out while queued (rare; its wait is in the sum, though it was never dispatched).
  for (const [verb, labels, n] of ours('request_wait_duration_seconds_sum')) {
    if (labels.includes('execute="true"')) add(seconds, `${verb} queued`, n);
  }
  return { counts, seconds };
}

/** after − before, key by key. */
export function delta(
  after: Record<string, number>,
  before: Record<string, number> = {},
): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}

/**
 * One line: each verb's mean milliseconds executing and queued per request, `n/a` where the
 * server gave no such metric (e.g. disabled), so a missing figure never reads as 0.
 */
export function meansPerRequest(requests: OrchestratorRequests): string {
  return Object.entries(requests.counts)
    .filter(([, n]) => n > 0)
    .map(([verb, n]) => {
      const mean = (what: string) => {
        const total = requests.seconds[`${verb} ${what}`];
        return total === undefined ? 'n/a' : `${((total / n) * 1000).toFixed(1)} ms`;
      };
      return `${verb} ${mean('executing')} executing + ${mean('queued')} queued`;
    })
    .join('; ');
}
