/**
 * Revoke after convergence (issue 10 item 3), end to end against real parts: the local PostgreSQL,
 * moto, the local control plane with ESO and kwok, and the synthesized stack with `databaseRotation`
 * (its definition has RevokePrevious), whose step and database rotation functions run as bundles.
 * An RDS-style secret with `masterarn` (alternating users, chosen from its `engine`) is rotated by
 * the database function's four steps, as Secrets Manager would invoke them; a Deployment reads it
 * through an ExternalSecret; then the workflow propagates it. The previous user logs in until every
 * consumer runs the new one and no longer after; a failed propagation revokes nothing and alerts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseAdmin, postgresAdmin } from '../support/database-admin';
import type { DatabaseSecretValue } from '../support/database-fixture';
import { databaseWorkflow } from '../support/database-workflow';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { workflowHarness } from '../support/workflow-harness';

const passwords = new Set<string>();
const caDir = mkdtempSync(join(tmpdir(), 'rotator-db-ca-'));
const caFile = join(caDir, 'ca.pem');
let database: DatabaseAdmin;
let output: OutputCapture;
/** What the test wants to look at before each Lambda task of the running execution. */
let beforeTask: ((functionArn: string, payload: Record<string, unknown>) => Promise<void>) | undefined;

// Before the harness's own beforeAll: its database function trusts the server's CA from the start.
beforeAll(async () => {
  database = await postgresAdmin((password) => passwords.add(password));
  writeFileSync(caFile, database.server.caPem);
  output = captureOutput();
}, 90_000);

const wf = workflowHarness({
  databaseRotation: { env: { NODE_EXTRA_CA_CERTS: caFile } },
  beforeInvoke: (arn, payload) => beforeTask?.(arn, payload as Record<string, unknown>),
});
const { fx } = wf;

afterAll(async () => {
  output?.stop();
  await database?.stop();
  rmSync(caDir, { recursive: true, force: true });
  // Everything the functions and this process printed: no password of any user, master or version.
  expect(findLeakedValues(`${wf.hostOutput()}\n${output?.text() ?? ''}`, passwords)).toEqual([]);
});

const canLogin = (value: DatabaseSecretValue) => database.canLogin(value.username, value.password);

const db = databaseWorkflow(wf, () => database, passwords);

/**
 * A user, its master, the RDS-style secret of both (untagged: `engine` and `masterarn` choose
 * alternating users) rotated by the database function as Secrets Manager would run it, and a
 * Deployment reading username and password through ExternalSecret `db` (in `failing`: its rollout
 * fails after a restart). Returns the secret's name, the rotation's version and both credentials.
 */
async function rotatedDatabaseSecret(tag: string, failing: readonly string[] = []) {
  const { secretId, arn, namespace, user } = await db.databaseSecretWithConsumer(tag, { failing });
  const versionId = await db.rotate(arn);
  const current = await db.staged(secretId, 'AWSCURRENT');
  const previous = await db.staged(secretId, 'AWSPREVIOUS');
  expect([previous.username, current.username]).toEqual([user.username, `${user.username}_clone`]);
  return { secretId, namespace, versionId, current, previous };
}

/**
 * Watches the next execution: before each Lambda task, the task (step action or revokePrevious),
 * whether the previous credential logs in at that moment, and the ledger's status of the secret.
 */
function watchTasks(secretId: string, previous: DatabaseSecretValue) {
  const seen: { task: string; previousLogsIn: boolean; ledger: string | undefined }[] = [];
  beforeTask = async (arn, payload) => {
    const task = arn === wf.databaseFunction().arn ? `db:${payload.rotatorAction}` : String(payload.action);
    const ledger = await wf.propagation(secretId).then(
      (p) => p.entry.status,
      () => undefined,
    );
    seen.push({ task, previousLogsIn: await canLogin(previous), ledger });
  };
  return seen;
}

describe('revokePrevious after a propagation, against PostgreSQL and the local cluster', () => {
  it('the previous user logs in until every consumer runs the new version, then no longer; the current one keeps working', async () => {
    // Prepare
    const { secretId, namespace, versionId, current, previous } = await rotatedDatabaseSecret('revoke');
    expect([await canLogin(current), await canLogin(previous)]).toEqual([true, true]);
    const tasks = watchTasks(secretId, previous);

    // Act
    const execution = await wf.run('db-revoke', secretId, versionId);

    // Assess: revoked once, after Record said succeeded; up to then the previous user logged in
    expect(execution.status).toBe('SUCCEEDED');
    const revokes = tasks.filter((t) => t.task.startsWith('db:'));
    expect(revokes).toEqual([{ task: 'db:revokePrevious', previousLogsIn: true, ledger: 'succeeded' }]);
    expect(tasks.at(-1)?.task).toBe('db:revokePrevious');
    expect(tasks.at(-2)?.task).toBe('record');
    expect(tasks.map((t) => t.task)).toContain('advance-restarts');
    expect(tasks.every((t) => t.previousLogsIn)).toBe(true);
    expect((execution.output as { revoked?: unknown }).revoked).toMatchObject({
      versionId,
      status: 'revoked',
      username: previous.username,
    });
    // Afterwards: the previous credential fails, the current one (which the consumer holds) works
    expect([await canLogin(current), await canLogin(previous)]).toEqual([true, false]);
    expect(await fx.secretValue(namespace, 'db-secret', 'username')).toBe(current.username);
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(current.password);
    const propagation = await wf.propagation(secretId);
    expect(propagation.entry).toMatchObject({ status: 'succeeded', versionId });
    expect(propagation.restarted).toEqual([`Deployment/${namespace}/api`]);
    expect(propagation.failed).toEqual([]);
  });

  it('a propagation whose consumer fails its rollout revokes nothing and alerts', async () => {
    // Prepare
    const { secretId, namespace, versionId, current, previous } = await rotatedDatabaseSecret('failed', [
      'api',
    ]);
    const previousHash = await database.passwordHash(previous.username);
    const tasks = watchTasks(secretId, previous);

    // Act
    const execution = await wf.run('db-failed', secretId, versionId);

    // Assess: both credentials still log in, the previous one's password untouched; no revoke asked
    expect([await canLogin(current), await canLogin(previous)]).toEqual([true, true]);
    expect(await database.passwordHash(previous.username)).toBe(previousHash);
    expect(tasks.map((t) => t.task)).not.toContain('db:revokePrevious');
    expect(tasks.map((t) => t.task)).toContain('record');
    // The execution failed, recorded so and alerted
    expect(execution.status).toBe('FAILED');
    expect(execution.states).toContain('Alert');
    expect(execution.states).not.toContain('RevokePrevious');
    const propagation = await wf.propagation(secretId);
    expect(propagation.entry).toMatchObject({ status: 'failed', versionId });
    expect(propagation.failed.join('\n')).toContain(`Deployment/${namespace}/api`);
    const alerts = await wf.alertsReceived();
    expect(alerts.map((a) => a.Subject)).toContain(`Propagation failed: ${secretId}`);
  });
});
