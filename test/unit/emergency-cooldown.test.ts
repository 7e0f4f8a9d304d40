import { describe, expect, it } from 'vitest';
import { EmergencyCooldownError } from '../../shared/errors';
import type { LedgerEntry, LedgerPort } from '../../shared/ledger/ledger-port';
import {
  assertEmergencyAllowed,
  decideEmergencyCooldown,
  type EmergencyCooldownFacts,
} from '../../shared/requests/emergency-cooldown';

const MINUTE = 60_000;
const COOLDOWN = 15 * MINUTE;
const NOW = new Date('2026-11-30T12:00:00.000Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * MINUTE).toISOString();

const rotation = (versionId: string, minutesAgo: number, emergency?: boolean): LedgerEntry => ({
  kind: 'rotation',
  secretName: 'prod/app-team/db',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  versionId,
  trigger: emergency ? 'emergency' : 'scheduled',
  actor: 'arn:aws:iam::123456789012:role/responder',
  requestedAt: ago(minutesAgo),
  ...(emergency === undefined ? {} : { emergency }),
});

const propagation = (versionId: string, minutesAgo: number): LedgerEntry => ({
  kind: 'propagation',
  secretName: 'prod/app-team/db',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  versionId,
  trigger: 'event',
  actor: 'eventbridge:rotation-succeeded',
  executionId: `exec-${versionId}`,
  startedAt: ago(minutesAgo),
  status: 'succeeded',
});

function facts(entries: LedgerEntry[], extra: Partial<EmergencyCooldownFacts> = {}): EmergencyCooldownFacts {
  return { entries, complete: true, versionId: 'new', now: NOW, cooldownMs: COOLDOWN, ...extra };
}

describe('decideEmergencyCooldown', () => {
  it.each<[string, LedgerEntry[], Partial<EmergencyCooldownFacts>]>([
    ['a secret with no history', [], {}],
    ['an emergency exactly the cooldown ago', [rotation('e1', 15, true)], {}],
    ['an emergency longer ago than the cooldown', [rotation('e1', 16, true)], {}],
    ['only scheduled rotations inside the window', [rotation('s1', 1), rotation('s0', 5, false)], {}],
    ['only propagations inside the window', [propagation('e1', 2)], {}],
    ['the request’s own version (a retry of it)', [rotation('new', 1, true)], {}],
    [
      'an emergency inside the window, with the cooldown disabled',
      [rotation('e1', 1, true)],
      { cooldownMs: 0 },
    ],
    [
      'a full page whose oldest entry is outside the window',
      [rotation('s1', 1), propagation('s0', 2), rotation('s0', 20)],
      { complete: false },
    ],
  ])('allows an emergency for %s', (_name, entries, extra) => {
    expect(decideEmergencyCooldown(facts(entries, extra))).toEqual({ kind: 'allowed' });
  });

  it.each<[string, LedgerEntry[], string, number]>([
    ['an emergency a minute ago', [rotation('e1', 1, true)], 'e1', 14],
    [
      'an emergency behind newer propagations and a scheduled rotation',
      [propagation('s1', 1), rotation('s1', 2), propagation('e1', 3), rotation('e1', 4, true)],
      'e1',
      11,
    ],
    [
      'two emergencies (the newer one counts, whatever the order read)',
      [rotation('e1', 10, true), rotation('e2', 3, true)],
      'e2',
      12,
    ],
    [
      'an emergency sent by the custom event (trigger request)',
      [{ ...rotation('r1', 5, true), trigger: 'request' }],
      'r1',
      10,
    ],
  ])('refuses an emergency after %s, until the cooldown after it', (_name, entries, version, minutesLeft) => {
    expect(decideEmergencyCooldown(facts(entries))).toEqual({
      kind: 'cooling',
      lastVersionId: version,
      nextAllowedAt: new Date(NOW.getTime() + minutesLeft * MINUTE),
    });
  });

  it('asks for more history when a full page is all inside the window and holds no emergency', () => {
    const page = [rotation('s2', 1), propagation('s1', 2), rotation('s1', 6)];

    expect(decideEmergencyCooldown(facts(page, { complete: false }))).toEqual({
      kind: 'read-further',
      nextAllowedAt: new Date(NOW.getTime() + 9 * MINUTE),
    });
  });
});

/** A ledger whose history is `entries` (newest first), recording the limits it was asked for. */
function historyOf(entries: LedgerEntry[]) {
  const limits: number[] = [];
  const ledger: Pick<LedgerPort, 'history'> = {
    history: async (_name, options) => {
      limits.push(options?.limit ?? 50);
      return entries.slice(0, options?.limit ?? 50);
    },
  };
  return { ledger, limits };
}

const request = { secretName: 'prod/app-team/db', versionId: 'new', now: NOW, cooldownMs: COOLDOWN };

describe('assertEmergencyAllowed', () => {
  it('refuses inside the cooldown with the time the next emergency is allowed', async () => {
    const { ledger } = historyOf([rotation('e1', 5, true)]);

    const refused = assertEmergencyAllowed(ledger, request);

    await expect(refused).rejects.toBeInstanceOf(EmergencyCooldownError);
    await expect(refused).rejects.toMatchObject({
      code: 'EMERGENCY_COOLDOWN',
      secretName: 'prod/app-team/db',
      lastVersionId: 'e1',
      nextAllowedAt: new Date(NOW.getTime() + 10 * MINUTE),
      message: expect.stringContaining('allowed from 2026-11-30T12:10:00.000Z'),
    });
  });

  it('reads one short page when it settles the question', async () => {
    const { ledger, limits } = historyOf([rotation('s1', 1), rotation('e0', 30, true)]);

    await expect(assertEmergencyAllowed(ledger, request)).resolves.toBeUndefined();
    expect(limits).toEqual([20]);
  });

  it('reads a longer page when the first is all inside the window, and finds the emergency behind it', async () => {
    const busy = Array.from({ length: 20 }, (_, i) => propagation(`p${i}`, 1));
    const { ledger, limits } = historyOf([...busy, rotation('e1', 2, true)]);

    await expect(assertEmergencyAllowed(ledger, request)).rejects.toMatchObject({ lastVersionId: 'e1' });
    expect(limits).toEqual([20, 200]);
  });

  it('fails closed when even the longer page is all inside the window', async () => {
    const flood = Array.from({ length: 200 }, (_, i) => propagation(`p${i}`, 1));
    const { ledger } = historyOf(flood);

    await expect(assertEmergencyAllowed(ledger, request)).rejects.toMatchObject({
      name: 'EmergencyCooldownError',
      lastVersionId: undefined,
      nextAllowedAt: new Date(NOW.getTime() + 14 * MINUTE),
    });
  });

  it('reads nothing when the cooldown is disabled', async () => {
    const { ledger, limits } = historyOf([rotation('e1', 1, true)]);

    await expect(assertEmergencyAllowed(ledger, { ...request, cooldownMs: 0 })).resolves.toBeUndefined();
    expect(limits).toEqual([]);
  });
});
