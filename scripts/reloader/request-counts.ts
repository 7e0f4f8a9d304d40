import { execFileSync } from 'node:child_process';

/** Verbs counted one by one; the first four read, the rest write. */
export const COUNTED_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
export type CountedVerb = (typeof COUNTED_VERBS)[number];
const WRITES: readonly CountedVerb[] = ['create', 'update', 'patch', 'delete'];

/** Whose requests to count: a FlowSchema subject, e.g. `{ kind: 'User', user: { name: 'x' } }`. */
export type Subject = { kind: 'User'; user: { name: string } } | { kind: 'Group'; group: { name: string } };

/**
 * FlowSchemas that give each identity's requests their own API Priority and Fairness counters, one
 * per verb, named `bench-req-<label>-<verb>` (labels: letters and digits). kube-apiserver counts
 * dispatched requests per FlowSchema, which is the only per-identity request count it exports.
 * Identities in system:masters cannot be counted: the built-in `exempt` schema matches them first.
 */
export function countingFlowSchemas(subjects: Readonly<Record<string, Subject>>): object[] {
  return Object.entries(subjects).flatMap(([label, subject], s) =>
    COUNTED_VERBS.map((verb, v) => ({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name: `bench-req-${label}-${verb}` },
      spec: {
        priorityLevelConfiguration: { name: 'global-default' },
        matchingPrecedence: 100 + s * 10 + v,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [subject],
            resourceRules: [
              { verbs: [verb], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
            ],
          },
        ],
      },
    })),
  );
}

/** Requests dispatched so far, by label and verb, from kube-apiserver's APF counters. */
export function requestCounts(kubectl: string, kubeconfig: string): Record<string, Record<string, number>> {
  const metrics = execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const counts: Record<string, Record<string, number>> = {};
  for (const m of metrics.matchAll(
    /^apiserver_flowcontrol_dispatched_requests_total\{[^}]*flow_schema="bench-req-([a-z0-9]+)-(\w+)"[^}]*\} (\S+)$/gm,
  )) {
    const [, label = '', verb = '', value] = m;
    counts[label] = { ...counts[label], [verb]: (counts[label]?.[verb] ?? 0) + Number(value) };
  }
  return counts;
}

/** `after - before` for one label, verbs with no requests left out. */
export function requestsBetween(
  before: Record<string, Record<string, number>>,
  after: Record<string, Record<string, number>>,
  label: string,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const verb of COUNTED_VERBS) {
    const n = (after[label]?.[verb] ?? 0) - (before[label]?.[verb] ?? 0);
    if (n > 0) delta[verb] = n;
  }
  return delta;
}

/** Creates, updates, patches and deletes among `requests`. */
export function writeCount(requests: Record<string, number>): number {
  return WRITES.reduce((n, verb) => n + (requests[verb] ?? 0), 0);
}
