/**
 * Zero downtime, proven (issue 10 item 4), against real parts: the local PostgreSQL and MariaDB,
 * moto, the local control plane with ESO and kwok, and the synthesized stack with
 * `databaseRotation`, whose step and database rotation functions run as bundles. A consumer keeps
 * opening new connections (one started every 5 ms, at most 4 at once: a slow login delays the
 * next) with whatever credential its Kubernetes Secret holds, taking it again when its Deployment
 * restarts, throughout the rotation's four steps, ESO's sync, the restart and the revocation. With
 * alternating users no login fails; with a single user the failure window (from setSecret until
 * the consumer restarts) is measured and reported. The figures are printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseAdmin, mariadbAdmin, postgresAdmin } from '../support/database-admin';
import { type ConsumerReport, startConsumer } from '../support/database-consumer';
import { databaseWorkflow } from '../support/database-workflow';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

const passwords = new Set<string>();
const caDir = mkdtempSync(join(tmpdir(), 'rotator-db-ca-'));
const caFile = join(caDir, 'ca.pem');
const servers: Record<'PostgreSQL' | 'MariaDB', DatabaseAdmin> = {} as never;
let output: OutputCapture;
/** When each Lambda task of the running execution was first invoked, by task. */
let taskStarts: Map<string, number> | undefined;
/** The figures, printed after the run (this process's output is captured for the leak scan until then). */
const figures: string[] = [];

// Before the harness's own beforeAll: its database function trusts both servers' CAs from the start.
beforeAll(async () => {
  const remember = (password: string) => passwords.add(password);
  const [postgres, mariadb] = await Promise.allSettled([postgresAdmin(remember), mariadbAdmin(remember)]);
  if (postgres.status === 'fulfilled') servers.PostgreSQL = postgres.value;
  if (mariadb.status === 'fulfilled') servers.MariaDB = mariadb.value;
  for (const started of [postgres, mariadb]) if (started.status === 'rejected') throw started.reason;
  writeFileSync(caFile, `${servers.PostgreSQL.server.caPem}\n${servers.MariaDB.server.caPem}`);
  output = captureOutput();
}, 90_000);

const wf = workflowHarness({
  databaseRotation: { env: { NODE_EXTRA_CA_CERTS: caFile } },
  beforeInvoke: (arn, payload) => {
    const p = payload as { action?: string; rotatorAction?: string };
    const task = arn === wf.databaseFunction().arn ? `db:${p.rotatorAction}` : String(p.action);
    if (taskStarts && !taskStarts.has(task)) taskStarts.set(task, Date.now());
  },
});

afterAll(async () => {
  output?.stop();
  await Promise.all(Object.values(servers).map((server) => server.stop()));
  rmSync(caDir, { recursive: true, force: true });
  process.stdout.write(`${figures.join('\n')}\n`);
  // Everything the functions and this process printed: no password of any user, master or version.
  expect(findLeakedValues(`${wf.hostOutput()}\n${output?.text() ?? ''}`, passwords)).toEqual([]);
});

/**
 * A secret with a consuming Deployment, a consumer connecting as its pod would, then the rotation
 * (four steps, as Secrets Manager runs them) and its propagation (sync, restart, revoke), and a
 * moment after. Returns the consumer's report and when each phase began.
 */
async function rotateUnderLoad(database: DatabaseAdmin, tag: string, alternatingUsers: boolean) {
  const db = databaseWorkflow(wf, () => database, passwords);
  const s = await db.databaseSecretWithConsumer(tag, { alternatingUsers });
  const consumer = startConsumer({
    readCredential: () => db.consumerCredential(s.namespace),
    readRestartMarker: async () => (await wf.podTemplate(s.namespace, 'api')).annotations[RESTARTED_AT],
    login: (credential) => database.canLogin(credential.username, credential.password),
  });
  const phases = new Map<string, number>();
  taskStarts = phases;
  await sleep(250);
  const versionId = await db.rotate(s.arn, (step) => phases.set(step, Date.now()));
  const execution = await wf.run(`zd-${tag}`, s.secretId, versionId);
  phases.set('end', Date.now());
  await sleep(250);
  const seen = await consumer.stop();
  phases.set('stop', Date.now());
  taskStarts = undefined;
  return { ...s, execution, seen, phases };
}

/** One line of figures: connections tried and failed, and the failure window when any failed. */
function figuresOf(strategy: string, seen: ConsumerReport, phases: Map<string, number>): string {
  const rate = `over ${(seen.durationMs / 1000).toFixed(1)} s, one every ${(seen.durationMs / seen.tried).toFixed(0)} ms`;
  const base = `[zero-downtime] ${strategy}: ${seen.tried} connections tried, ${seen.failed} failed (${rate})`;
  if (seen.firstFailureAt === undefined || seen.lastFailureAt === undefined) return base;
  const since = (at: number, phase: string) =>
    `${at - (phases.get(phase) ?? Number.NaN)} ms after ${phase} began`;
  return `${base}; failure window ${seen.lastFailureAt - seen.firstFailureAt} ms (first ${since(seen.firstFailureAt, 'setSecret')}, last ${since(seen.lastFailureAt, 'advance-restarts')}; the consumer restarted ${(seen.restartsAt[0] ?? Number.NaN) - (phases.get('advance-restarts') ?? Number.NaN)} ms after advance-restarts began)`;
}

/** Between the starts of two phases (`end`: the execution ended; `stop`: the consumer stopped). */
const PHASES = [
  ['setSecret', 'finishSecret'],
  ['advance-restarts', 'record'],
  ['db:revokePrevious', 'end'],
  ['end', 'stop'],
] as const;

describe.each(['PostgreSQL', 'MariaDB'] as const)(
  'a consumer connecting every 5 ms through rotation, ESO sync, restart and revocation, against %s',
  (engine) => {
    const tag = engine === 'PostgreSQL' ? 'pg' : 'maria';

    it('alternating users: no login fails, and the previous user is revoked at the end', async () => {
      // Act
      const database = servers[engine];
      const { execution, seen, phases, user } = await rotateUnderLoad(database, `zd-alt-${tag}`, true);
      figures.push(figuresOf(`${engine} alternating users`, seen, phases));

      // Assess: the whole path ran, the consumer moved to the clone on its restart, nothing failed
      expect(execution.status).toBe('SUCCEEDED');
      expect((execution.output as { revoked?: { status?: string } }).revoked?.status).toBe('revoked');
      expect(seen.usernames).toEqual([user.username, `${user.username}_clone`]);
      expect(seen.tried).toBeGreaterThan(50);
      expect(seen.failed).toBe(0);
      // Connections were tried in every phase: the database's password change, the restart, the
      // revocation and after it (the previous user no longer logs in)
      for (const [from, to] of PHASES) {
        const during = seen.triedBetween(phases.get(from) ?? Number.NaN, phases.get(to) ?? Number.NaN);
        expect(during.tried, `${from} to ${to}`).toBeGreaterThan(0);
      }
      expect(await database.canLogin(user.username, user.password)).toBe(false);
    });

    it('single user: the failure window is measured and reported', async () => {
      // Act
      const { execution, seen, phases, user } = await rotateUnderLoad(
        servers[engine],
        `zd-one-${tag}`,
        false,
      );
      figures.push(figuresOf(`${engine} single user`, seen, phases));

      // Assess: the same path ran; the figures are there to quote
      expect(execution.status).toBe('SUCCEEDED');
      expect(seen.usernames).toEqual([user.username]);
      expect(seen.restartsAt.length).toBeGreaterThan(0);
      expect(seen.tried).toBeGreaterThan(50);
      expect(figures.at(-1)).toMatch(/single user: \d+ connections tried, \d+ failed/);
    });
  },
);
