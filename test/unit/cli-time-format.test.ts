import { describe, expect, it } from 'vitest';
import { formatDuration, formatTime, parseDuration, shortActor, shortVersion } from '../../cli/time-format';

describe('how the CLI shows times and callers', () => {
  it.each([
    [new Date('2026-11-20T10:02:33.456Z'), '2026-11-20 10:02Z'],
    ['2026-01-02T03:04:05Z', '2026-01-02 03:04Z'],
    [undefined, '-'],
    ['not a date', '-'],
  ])('formatTime(%s) = %s', (input, expected) => {
    expect(formatTime(input)).toBe(expected);
  });

  it.each([
    [850, '850 ms'],
    [12_340, '12.3 s'],
    [245_000, '4m 05s'],
    [3_720_000, '1h 02m'],
    [undefined, '-'],
  ])('formatDuration(%s) = %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each([
    ['arn:aws:iam::123456789012:user/alice', 'user/alice'],
    ['arn:aws:sts::123456789012:assumed-role/Ops/alice', 'assumed-role/Ops/alice'],
    ['scheduler', 'scheduler'],
  ])('shortActor(%s) = %s', (actor, expected) => {
    expect(shortActor(actor)).toBe(expected);
  });

  it('shortens version ids to 8 characters', () => {
    expect(shortVersion('2a20bf7b-1234-5678-9abc-def012345678')).toBe('2a20bf7b');
    expect(shortVersion(undefined)).toBe('-');
  });

  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['10', 600_000],
    ['0s', undefined],
    ['5x', undefined],
    ['', undefined],
  ])('parseDuration(%j) = %s', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });
});
