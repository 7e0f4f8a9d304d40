import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/rotation-fixture';
import type { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { type RevokePreviousResult, revokePreviousStep } from '../../shared/rotation/revoke-previous';
import { type DatabaseAdmin, mariadbAdmin, postgresAdmin } from '../support/database-admin';
import { type DatabaseSecretValue, databaseRotationHarness } from '../support/database-fixture';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

/**
 * Revoke after convergence (issue 10 item 3) against the real local PostgreSQL and MariaDB: the
 * rotation's own steps and moto, then revokePreviousStep as the workflow will call it.
 */
const servers: Record<'PostgreSQL' | 'MariaDB', DatabaseAdmin> = {} as never;
const harnesses: Partial<Record<keyof typeof servers, ReturnType<typeof databaseRotationHarness>>> = {};
const passwords = new Set<string>();
let output: OutputCapture;

beforeAll(async () => {
  const remember = (password: string) => passwords.add(password);
  const [postgres, mariadb] = await Promise.allSettled([postgresAdmin(remember), mariadbAdmin(remember)]);
  if (postgres.status === 'fulfilled') servers.PostgreSQL = postgres.value;
  if (mariadb.status === 'fulfilled') servers.MariaDB = mariadb.value;
  for (const started of [postgres, mariadb]) if (started.status === 'rejected') throw started.reason;
  output = captureOutput();
}, 90_000);

afterAll(async () => {
  output?.stop();
  await Promise.all(Object.values(servers).map((server) => server.stop()));
  // Everything logged while the tests ran: no password of any user, master or version.
  const seen = [...passwords, ...Object.values(harnesses).flatMap((harness) => [...harness.seenValues])];
  expect(findLeakedValues(output?.text() ?? '', seen)).toEqual([]);
});

describe.each(['PostgreSQL', 'MariaDB'] as const)('revokePrevious against a real %s', (name) => {
  const database = () => servers[name];
  const harness = () => {
    harnesses[name] ??= databaseRotationHarness(database().server.caPem);
    return harnesses[name];
  };
  const secretFor = (tag: string, value: DatabaseSecretValue, strategy: string) =>
    createSecret(harness().clients, harness().name(tag), JSON.stringify(value), {
      'rotator:strategy': strategy,
    });
  /** revokePreviousStep as the workflow calls it; its result is checked for every known password. */
  const revoke = async (secretId: string, versionId: string): Promise<RevokePreviousResult> => {
    const result = await revokePreviousStep(
      { rotatorAction: 'revokePrevious', secretId, versionId },
      harness().deps,
    );
    harness().expectNoLeak(result, [...passwords]);
    return result;
  };
  const loginsOf = async (...values: DatabaseSecretValue[]) =>
    Promise.all(values.map((value) => database().canLogin(value.username, value.password)));

  it('revokes the previous user after each of three alternating rotations; the current user keeps working, a repeat is safe, the next rotation sets the revoked user again', async () => {
    // Prepare
    const master = await database().createMaster('mst');
    const base = await database().createUser('rev');
    const masterarn = await secretFor('master', master, database().strategies.singleUser);
    const arn = await secretFor('revoke', { ...base, masterarn }, database().strategies.alternatingUsers);
    const users: string[] = [];
    const tokens: string[] = [];

    for (let round = 1; round <= 3; round++) {
      // Act: a rotation (the next one sets a password on the user revoked in the round before)
      const { token, outcomes } = await harness().rotateAgain(arn);
      tokens.push(token);
      const current = await harness().staged(arn, 'AWSCURRENT');
      const previous = await harness().staged(arn, 'AWSPREVIOUS');
      users.push(current.username);

      // Assess: during propagation both credentials log in
      expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
      expect(await loginsOf(current, previous)).toEqual([true, true]);
      const currentHash = await database().passwordHash(current.username);

      // Act: every consumer has converged
      const revoked = await revoke(arn, token);

      // Assess: the previous credential fails, the current one works and its password is untouched
      expect(revoked).toEqual({
        secretName: expect.any(String),
        versionId: token,
        status: 'revoked',
        username: previous.username,
      });
      expect(await loginsOf(current, previous)).toEqual([true, false]);
      expect(await database().passwordHash(current.username)).toBe(currentHash);
      const revokedHash = await database().passwordHash(previous.username);

      // Act: the workflow repeats the step (a retry, a redelivered event)
      const repeated = await revoke(arn, token);

      // Assess: nothing changed the second time
      expect(repeated).toMatchObject({ status: 'already-revoked', username: previous.username });
      expect(await database().passwordHash(previous.username)).toBe(revokedHash);
      expect(await database().passwordHash(current.username)).toBe(currentHash);
      expect(await loginsOf(current, previous)).toEqual([true, false]);
    }
    expect(users).toEqual([`${base.username}_clone`, base.username, `${base.username}_clone`]);

    // A late request for the first rotation's version: AWSCURRENT moved on twice, nothing changes.
    const hashes = await Promise.all(users.slice(0, 2).map((user) => database().passwordHash(user)));
    expect(await revoke(arn, tokens[0] as string)).toMatchObject({ status: 'superseded' });
    expect(await Promise.all(users.slice(0, 2).map((user) => database().passwordHash(user)))).toEqual(hashes);
  });

  it('revokes nothing while the next rotation is under way: its setSecret already set the previous user, and that rotation finishes', async () => {
    // Prepare: one rotation done, the next one through setSecret
    const master = await database().createMaster('mst');
    const base = await database().createUser('run');
    const masterarn = await secretFor('master', master, database().strategies.singleUser);
    const arn = await secretFor('running', { ...base, masterarn }, database().strategies.alternatingUsers);
    const { token: first } = await harness().rotateAgain(arn);
    const { token: next } = await nextRotationThroughSetSecret(arn);
    const pending = await harness().staged(arn, 'AWSPENDING');

    // Act
    const result = await revoke(arn, first);

    // Assess
    expect(result).toMatchObject({ status: 'rotation-in-progress' });
    expect(await loginsOf(pending)).toEqual([true]);
    await harness().step('testSecret', arn, next);
    await harness().step('finishSecret', arn, next);
    expect((await harness().staged(arn, 'AWSCURRENT')).password).toBe(pending.password);
  });

  it('single user: nothing to revoke, and no password changes', async () => {
    // Prepare
    const initial = await database().createUser('one');
    const arn = await secretFor('single', initial, database().strategies.singleUser);
    const { token } = await harness().rotateAgain(arn);
    const current = await harness().staged(arn, 'AWSCURRENT');
    const hash = await database().passwordHash(initial.username);

    // Act
    const result = await revoke(arn, token);

    // Assess
    expect(result).toMatchObject({ status: 'nothing-to-revoke', reason: 'single-user' });
    expect(await database().passwordHash(initial.username)).toBe(hash);
    expect(await loginsOf(current)).toEqual([true]);
  });

  /** Starts the next rotation (AWSPENDING taken off the finished version first, as rotateAgain does) up to setSecret. */
  async function nextRotationThroughSetSecret(arn: string) {
    const described = await harness().deps.secrets.describeSecret(arn);
    for (const [versionId, stages] of Object.entries(described.versionIdsToStages)) {
      if (stages.includes('AWSPENDING') && stages.includes('AWSCURRENT')) {
        await (harness().deps.secrets as SecretsManagerAdapter).removeStage(arn, 'AWSPENDING', versionId);
      }
    }
    const token = await harness().begin(arn);
    await harness().step('createSecret', arn, token);
    await harness().step('setSecret', arn, token);
    return { token };
  }
});
