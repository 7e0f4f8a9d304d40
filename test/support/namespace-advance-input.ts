/**
 * The input of one advance-restarts call for the consumers in `namespace` of Secret `db-secret`,
 * which its ExternalSecret `db` confirmed synced just now: what the cluster tests that call the
 * restart step directly (through the real adapter) give it. No canary, up to 10 in flight.
 */
export function namespaceAdvanceInput(namespace: string, secretName: string, versionId: string) {
  const now = new Date().toISOString();
  return {
    cluster: 'local',
    secret: {
      name: secretName,
      arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
      tags: {},
    },
    versionId,
    moveSeq: 1,
    budget: { inFlight: 10, percent: 100, canary: 0 },
    plan: {
      plannedAt: now,
      resync: [{ namespace, name: 'db', prior: {}, targetSecret: 'db-secret', reasons: [] }],
      notRefreshing: [],
    },
    sync: {
      annotatedAt: now,
      deadline: now,
      done: true,
      pending: [],
      synced: [{ kind: 'ExternalSecret', namespace, name: 'db' }],
      failed: [],
    },
    restarts: { done: false as const },
  };
}
