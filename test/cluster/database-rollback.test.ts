/**
 * Automatic rollback (issue 10 item 3b), end to end against real parts: the local PostgreSQL, moto,
 * the local control plane with ESO and kwok, and the synthesized stack with `databaseRotation`
 * (RollBackDatabase and RevokePrevious in its definition), whose step and database rotation
 * functions run as bundles. A secret tagged `rotator:rollback=true` is rotated by the database
 * function's four steps; its consumer's rollout fails on the new version (kwok's fail-on-restart
 * stage). With alternating users AWSCURRENT moves back and that move propagates like any other;
 * with a single user the rollback is refused; an emergency never rolls back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalExecution } from '../../harness/local-workflow';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import type { RotationLogger } from '../../shared/observability';
import { startPropagation } from '../../shared/workflow/start-propagation';
import { type DatabaseAdmin, postgresAdmin } from '../support/database-admin';
import type { DatabaseSecretValue } from '../support/database-fixture';
import { databaseWorkflow } from '../support/database-workflow';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { workflowHarness } from '../support/workflow-harness';

const ROLLBACK = { 'rotator:rollback': 'true' };
const passwords = new Set<string>();
const caDir = mkdtempSync(join(tmpdir(), 'rotator-db-ca-'));
const caFile = join(caDir, 'ca.pem');
let database: DatabaseAdmin;
let output: OutputCapture;

// Before the harness's own beforeAll: its database function trusts the server's CA from the start.
beforeAll(async () => {
  database = await postgresAdmin((password) => passwords.add(password));
  writeFileSync(caFile, database.server.caPem);
  output = captureOutput();
}, 90_000);

const wf = workflowHarness({ databaseRotation: { env: { NODE_EXTRA_CA_CERTS: caFile } } });
const { fx } = wf;
const db = databaseWorkflow(wf, () => database, passwords);

afterAll(async () => {
  output?.stop();
  await database?.stop();
  rmSync(caDir, { recursive: true, force: true });
  // Everything the functions and this process printed: no password of any user, master or version.
  expect(findLeakedValues(`${wf.hostOutput()}\n${output?.text() ?? ''}`, passwords)).toEqual([]);
});

const canLogin = (value: DatabaseSecretValue) => database.canLogin(value.username, value.password);

/** Alerts received since the last call that name the secret (another case's may be left unread). */
async function alertsAbout(secretId: string) {
  return (await wf.alertsReceived()).filter((a) => `${a.Subject}\n${a.Message}`.includes(secretId));
}

/** Secrets Manager's "Secret Label Updated" event for AWSCURRENT, delivered to the starter as deployed. */
async function labelUpdatedEvent(secretId: string, versionId: string): Promise<LocalExecution> {
  const silent = { info() {}, warn() {}, error() {}, appendKeys() {} } as unknown as RotationLogger;
  let execution: Promise<LocalExecution> | undefined;
  const started = await startPropagation(
    { secretId, versionId },
    {
      managedPrefixes: [wf.prefix],
      secrets: new SecretsManagerAdapter(fx.aws.secretsManager),
      ledger: wf.ledger,
      starter: {
        async start(name, input) {
          execution = wf.run(name, input.secretId, input.versionId, input);
          return { alreadyStarted: false };
        },
      },
      logger: silent,
      metrics: { addDimension() {}, addMetric() {} },
      now: () => new Date(),
    },
  );
  if (started.ignored !== undefined || !execution)
    throw new Error(`no execution started: ${started.ignored}`);
  return execution;
}

/** A rotated secret (tagged for rollback) whose consumer `api` fails its rollout on the new version. */
async function rotatedWithFailingConsumer(tag: string, alternatingUsers: boolean) {
  const made = await db.databaseSecretWithConsumer(tag, {
    alternatingUsers,
    failing: ['api'],
    tags: ROLLBACK,
  });
  const versionId = await db.rotate(made.arn);
  const current = await db.staged(made.secretId, 'AWSCURRENT');
  const previous = await db.staged(made.secretId, 'AWSPREVIOUS');
  const previousVersionId = Object.entries(await db.stages(made.secretId)).find(([, s]) =>
    s.includes('AWSPREVIOUS'),
  )?.[0] as string;
  return { ...made, versionId, previousVersionId, current, previous };
}

describe('automatic rollback after a failed propagation, against PostgreSQL and the local cluster', () => {
  it('alternating users: AWSCURRENT moves back, nothing is revoked, the ledger and alert say so; the move back propagates', async () => {
    // Prepare
    const s = await rotatedWithFailingConsumer('rollback', true);
    expect(s.current.username).toBe(`${s.previous.username}_clone`);
    const hashes = [
      await database.passwordHash(s.previous.username),
      await database.passwordHash(s.current.username),
    ];

    // Act
    const failed = await wf.run('db-rollback', s.secretId, s.versionId);

    // Assess: rolled back by the database function, noted, alerted; the execution failed
    expect(failed.status).toBe('FAILED');
    expect(failed.states).toEqual(
      expect.arrayContaining(['Record', 'RollBackDatabase', 'NoteRollback', 'Alert']),
    );
    expect(failed.states).not.toContain('RevokePrevious');
    expect(failed.states).not.toContain('RollBackFailed');
    const stages = await db.stages(s.secretId);
    expect(stages[s.previousVersionId]).toEqual(['AWSCURRENT']);
    expect(stages[s.versionId] ?? []).toEqual([]);
    // Nothing was revoked: both credentials log in, neither password changed
    expect([await canLogin(s.previous), await canLogin(s.current)]).toEqual([true, true]);
    expect([
      await database.passwordHash(s.previous.username),
      await database.passwordHash(s.current.username),
    ]).toEqual(hashes);
    const record = await wf.propagation(s.secretId);
    expect(record.entry).toMatchObject({ status: 'failed', versionId: s.versionId });
    expect(record.entry.error).toMatch(/^rolled back: AWSCURRENT moved back to version /);
    expect(record.failed.join('\n')).toContain(`Deployment/${s.namespace}/api`);
    const alerts = await alertsAbout(s.secretId);
    expect(alerts.map((a) => a.Subject)).toEqual([`Propagation failed, rolled back: ${s.secretId}`]);

    // Act: the consumer is fixed (the failing stage's label comes off), then the move back's event
    await fx.admin.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      namespace: s.namespace,
      name: 'api',
      body: [{ op: 'remove', path: '/spec/template/metadata/labels/rotator.test~1fail-on-restart' }],
    });
    await fx.rolledOut([{ kind: 'Deployment', namespace: s.namespace, name: 'api' }]);
    const back = await labelUpdatedEvent(s.secretId, s.previousVersionId);

    // Assess: propagated; the consumer's Secret holds the previous credential, which logs in
    expect(back.status).toBe('SUCCEEDED');
    expect(back.states).not.toContain('RollBackDatabase');
    const propagation = await wf.propagation(s.secretId);
    expect(propagation.entry).toMatchObject({ status: 'succeeded', versionId: s.previousVersionId });
    expect(propagation.restarted).toEqual([`Deployment/${s.namespace}/api`]);
    expect(await db.consumerCredential(s.namespace)).toEqual({
      username: s.previous.username,
      password: s.previous.password,
    });
    expect(await canLogin(s.previous)).toBe(true);
    expect((await db.stages(s.secretId))[s.previousVersionId]).toEqual(['AWSCURRENT']);
    // The failed version's credential (its user has no label to be found by) is revoked once the
    // move back converged: RevokePrevious revokes the alternate of the AWSCURRENT user.
    expect(back.states).toContain('RevokePrevious');
    expect(await canLogin(s.current)).toBe(false);
  });

  it('single user: rollback is refused, AWSCURRENT stays on the new version, the alert says rolling back failed', async () => {
    // Prepare
    const s = await rotatedWithFailingConsumer('refused', false);
    expect(s.current.username).toBe(s.previous.username);

    // Act
    const failed = await wf.run('db-refused', s.secretId, s.versionId);

    // Assess: asked, refused with nothing changed, alerted
    expect(failed.status).toBe('FAILED');
    expect(failed.states).toEqual(expect.arrayContaining(['RollBackDatabase', 'RollBackFailed', 'Alert']));
    expect(failed.states).not.toContain('NoteRollback');
    const stages = await db.stages(s.secretId);
    expect(stages[s.versionId]).toEqual(['AWSCURRENT']);
    expect(stages[s.previousVersionId]).toEqual(['AWSPREVIOUS']);
    expect([await canLogin(s.previous), await canLogin(s.current)]).toEqual([false, true]);
    const alerts = await alertsAbout(s.secretId);
    expect(alerts.map((a) => a.Subject)).toEqual(['Propagation failed, and rolling back failed']);
    expect(alerts[0]?.Message).toContain('RollbackRefusedError');
    expect(alerts[0]?.Message).toContain('AWSCURRENT stays on the failed version');
    expect((await wf.propagation(s.secretId)).entry).toMatchObject({
      status: 'failed',
      versionId: s.versionId,
    });
  });

  it('an emergency rotation never rolls back', async () => {
    // Prepare
    const s = await rotatedWithFailingConsumer('emergency', true);

    // Act
    const failed = await wf.run('db-emergency', s.secretId, s.versionId, {
      trigger: 'emergency',
      emergency: true,
    });

    // Assess: failed and alerted as any failed propagation; AWSCURRENT stays, nothing revoked
    expect(failed.status).toBe('FAILED');
    expect(failed.states).toContain('Alert');
    expect(failed.states).not.toContain('RollBackDatabase');
    expect(failed.states).not.toContain('RevokePrevious');
    const stages = await db.stages(s.secretId);
    expect(stages[s.versionId]).toEqual(['AWSCURRENT']);
    expect(stages[s.previousVersionId]).toEqual(['AWSPREVIOUS']);
    expect([await canLogin(s.previous), await canLogin(s.current)]).toEqual([true, true]);
    const alerts = await alertsAbout(s.secretId);
    expect(alerts.map((a) => a.Subject)).toEqual([`Propagation failed: ${s.secretId}`]);
  });
});
