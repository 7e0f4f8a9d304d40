import { describe, expect, it } from 'vitest';
import {
  breaksPolicy,
  type ComplianceFacts,
  currentSince,
  judgeCompliance,
} from '../../../shared/compliance/compliance-verdict';
import type { PropagationRecord } from '../../../shared/ledger/ledger-port';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const V1 = 'a'.repeat(32);
const V2 = 'b'.repeat(32);
const rules = { rules: [{ prefix: 'prod/', days: 90 }] };

function propagation(versionId: string, status: PropagationRecord['status']): PropagationRecord {
  return {
    secretName: 'prod/db',
    secretArn: 'arn',
    versionId,
    trigger: 'scheduled',
    actor: 'scheduler',
    executionId: 'x',
    startedAt: daysAgo(1).toISOString(),
    status,
  };
}

const base: ComplianceFacts = {
  name: 'prod/db',
  tags: {},
  createdAt: daysAgo(200),
  lastRotatedAt: daysAgo(10),
  currentVersionId: V2,
  scheduleMissed: false,
  ledger: { lastPropagation: propagation(V2, 'succeeded') },
};

describe('judgeCompliance', () => {
  it.each<[string, Partial<ComplianceFacts>, string[]]>([
    ['rotated and propagated', {}, []],
    [
      'rotation off, never rotated, older than its maximum age',
      { lastRotatedAt: undefined, ledger: {} },
      ['overdue'],
    ],
    [
      'rotation off, younger than its maximum age',
      { createdAt: daysAgo(89), lastRotatedAt: undefined, ledger: {} },
      [],
    ],
    ['a stuck rotation', { pending: 'stuck' }, ['rotation-failed']],
    ['a rotation under way', { pending: 'rotating' }, ['rotating']],
    [
      'its propagation failed',
      { ledger: { lastPropagation: propagation(V2, 'failed') } },
      ['propagation-failed'],
    ],
    [
      'its propagation is running',
      { ledger: { lastPropagation: propagation(V2, 'in-progress') } },
      ['propagating'],
    ],
    [
      'only an older version propagated',
      { ledger: { lastPropagation: propagation(V1, 'succeeded') } },
      ['never-propagated'],
    ],
    ['rotated, nothing in the ledger', { ledger: {} }, ['never-propagated']],
    ['no ledger configured: propagation not judged', { ledger: undefined }, []],
    ['past its schedule', { scheduleMissed: true }, ['schedule-missed']],
    [
      'an unreadable tag, past its schedule and unpropagated',
      { tags: { 'rotator:max-age-days': 'x' }, scheduleMissed: true, ledger: {} },
      ['invalid-policy', 'schedule-missed', 'never-propagated'],
    ],
    ['older than the tag allows', { tags: { 'rotator:max-age-days': '5' } }, ['overdue']],
  ])('%s: %j', (_what, facts, findings) => {
    const judgement = judgeCompliance({ ...base, ...facts }, rules, NOW);
    expect(judgement.findings).toEqual(findings);
    expect(judgement.verdict).toBe(findings[0] ?? 'ok');
  });

  const rollbackMove = {
    seq: 3,
    versionId: V1,
    fromVersionId: V2,
    at: daysAgo(0.01).toISOString(),
    trigger: 'event' as const,
    actor: 'x',
  };

  it('ages a rolled-back version from its own creation, not from the move back to it', () => {
    // V1 was created 95 days ago; V2 rotated in 10 days ago; an hour ago V1 was made current again.
    const facts = {
      ...base,
      currentVersionId: V1,
      currentCreatedAt: daysAgo(95),
      ledger: { lastPropagation: propagation(V1, 'succeeded'), currentMove: rollbackMove },
    };
    expect(currentSince(facts)).toEqual(daysAgo(95));
    const judgement = judgeCompliance(facts, rules, NOW);
    expect(judgement.ageMs).toBe(95 * DAY);
    expect(judgement.findings).toEqual(['overdue']);
  });

  it('ages a value put by hand from its version creation (the put), the same for any move', () => {
    const facts = { ...base, currentCreatedAt: daysAgo(3) };
    expect(currentSince(facts)).toEqual(daysAgo(3));
    const moved = {
      ...facts,
      ledger: { currentMove: { ...rollbackMove, versionId: V2, at: NOW.toISOString() } },
    };
    expect(currentSince(moved)).toEqual(daysAgo(3));
  });

  it('without the version creation date, falls back to the last rotation or creation, never a move', () => {
    const facts = { ...base, currentVersionId: V1, ledger: { currentMove: rollbackMove } };
    expect(currentSince(facts)).toEqual(daysAgo(10));
    expect(currentSince({ ...facts, lastRotatedAt: undefined })).toEqual(daysAgo(200));
  });
});

describe('breaksPolicy', () => {
  it('gates on breaking findings only, less those allowed', () => {
    expect(breaksPolicy([{ findings: ['rotating', 'propagating'] }])).toBe(false);
    expect(breaksPolicy([{ findings: [] }, { findings: ['never-propagated'] }])).toBe(true);
    expect(breaksPolicy([{ findings: ['never-propagated'] }], new Set(['never-propagated']))).toBe(false);
    expect(breaksPolicy([{ findings: ['overdue'] }], new Set(['never-propagated']))).toBe(true);
  });
});
