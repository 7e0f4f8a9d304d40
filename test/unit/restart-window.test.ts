import { describe, expect, it } from 'vitest';
import { RestartWindowError } from '../../shared/errors';
import { isWindowOpen, nextWindowOpening, parseRestartWindow } from '../../shared/workflow/restart-window';

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso);
const next = (text: string, from: string, horizonMs = 8 * DAY) =>
  nextWindowOpening(parseRestartWindow(text), at(from), horizonMs)?.toISOString();
const open = (text: string, when: string) => isWindowOpen(parseRestartWindow(text), at(when));

describe('parseRestartWindow', () => {
  it.each([
    ['Sat,Sun 02:00-05:00 UTC', [6, 0], 120, 300, 'UTC'],
    ['mon-fri 22:00-06:00 America/New_York', [1, 2, 3, 4, 5], 1320, 360, 'America/New_York'],
    ['Fri-Mon 00:00-24:00 Europe/Berlin', [5, 6, 0, 1], 0, 1440, 'Europe/Berlin'],
    ['daily 23:30-00:15 Asia/Kolkata', [0, 1, 2, 3, 4, 5, 6], 1410, 15, 'Asia/Kolkata'],
    ['* 01:00-02:00 UTC', [0, 1, 2, 3, 4, 5, 6], 60, 120, 'UTC'],
  ])('reads %s', (text, days, start, end, zone) => {
    const [w] = parseRestartWindow(text).windows;
    expect([...(w?.days ?? [])].sort()).toEqual([...days].sort());
    expect([w?.start, w?.end, w?.zone]).toEqual([start, end, zone]);
  });

  it('reads several entries and `always`', () => {
    expect(parseRestartWindow('Sat 02:00-03:00 UTC; Wed 22:00-23:00 Europe/Paris').windows).toHaveLength(2);
    expect(parseRestartWindow(' Always ').windows).toEqual([]);
  });

  it.each([
    ['', /1 to 512 characters/],
    ['Sat 02:00-05:00', /is not "<days> <HH:MM>-<HH:MM> <time zone>"/],
    ['Sat 2:00-05:00 UTC', /are not HH:MM-HH:MM/],
    ['Sat 02:00-25:00 UTC', /not valid times of day/],
    ['Sat 24:00-02:00 UTC', /not valid times of day/],
    ['Sat 02:60-03:00 UTC', /not valid times of day/],
    ['Sat 02:00-02:00 UTC', /opens and closes at the same time/],
    ['Saturday 02:00-05:00 UTC', /days "Saturday" are not/],
    ['Mon-Fri-Sat 02:00-05:00 UTC', /days .* are not/],
    ['Sat 02:00-05:00 Mars/Olympus', /"Mars\/Olympus" is not an IANA time zone/],
    ['Sat 02:00-05:00 UTC;', /is not "<days>/],
    ['x'.repeat(513), /1 to 512 characters/],
  ])('refuses %j with a RestartWindowError', (text, message) => {
    expect(() => parseRestartWindow(text)).toThrow(RestartWindowError);
    expect(() => parseRestartWindow(text)).toThrow(message);
  });
});

describe('isWindowOpen', () => {
  it.each([
    // 2026-12-05 is a Saturday.
    ['Sat 02:00-05:00 UTC', '2026-12-05T02:00:00Z', true],
    ['Sat 02:00-05:00 UTC', '2026-12-05T04:59:59Z', true],
    ['Sat 02:00-05:00 UTC', '2026-12-05T05:00:00Z', false],
    ['Sat 02:00-05:00 UTC', '2026-12-05T01:59:59Z', false],
    ['Sat 02:00-05:00 UTC', '2026-12-06T03:00:00Z', false],
    // Crossing midnight: Friday 22:00 to Saturday 02:00, by the day it opens.
    ['Fri 22:00-02:00 UTC', '2026-12-04T23:00:00Z', true],
    ['Fri 22:00-02:00 UTC', '2026-12-05T01:30:00Z', true],
    ['Fri 22:00-02:00 UTC', '2026-12-05T02:00:00Z', false],
    ['Fri 22:00-02:00 UTC', '2026-12-05T23:00:00Z', false],
    ['Fri 22:00-02:00 UTC', '2026-12-04T01:00:00Z', false],
    // The zone's wall clock: 03:00 in Berlin (UTC+1 in December) is 02:00 UTC.
    ['Sat 03:00-04:00 Europe/Berlin', '2026-12-05T02:30:00Z', true],
    ['Sat 03:00-04:00 Europe/Berlin', '2026-12-05T03:30:00Z', false],
    // The local day differs from UTC's: Saturday 01:00 in Tokyo is Friday 16:00 UTC.
    ['Sat 00:00-02:00 Asia/Tokyo', '2026-12-04T16:00:00Z', true],
    ['always', '2026-12-04T16:00:00Z', true],
    ['daily 00:00-24:00 UTC', '2026-12-04T16:00:00Z', true],
  ])('%s at %s: %s', (text, when, expected) => {
    expect(open(text, when)).toBe(expected);
  });
});

describe('nextWindowOpening', () => {
  it.each([
    ['an open window: now', 'Sat 02:00-05:00 UTC', '2026-12-05T03:00:00.000Z', '2026-12-05T03:00:00.000Z'],
    ['later the same day', 'Sat 02:00-05:00 UTC', '2026-12-05T00:10:00.000Z', '2026-12-05T02:00:00.000Z'],
    [
      'after it closed: next week',
      'Sat 02:00-05:00 UTC',
      '2026-12-05T05:00:00.000Z',
      '2026-12-12T02:00:00.000Z',
    ],
    [
      'the earliest entry',
      'Sat 02:00-05:00 UTC; Tue 10:00-11:00 UTC',
      '2026-12-05T06:00:00.000Z',
      '2026-12-08T10:00:00.000Z',
    ],
    [
      'crossing midnight, from its morning part',
      'Fri 22:00-02:00 UTC',
      '2026-12-05T01:00:00.000Z',
      '2026-12-05T01:00:00.000Z',
    ],
    [
      'crossing midnight, from after it',
      'Fri 22:00-02:00 UTC',
      '2026-12-05T02:00:00.000Z',
      '2026-12-11T22:00:00.000Z',
    ],
    [
      'a zone east of UTC',
      'Mon 09:00-10:00 Asia/Kolkata',
      '2026-12-06T00:00:00.000Z',
      '2026-12-07T03:30:00.000Z',
    ],
    ['mid-minute start', 'daily 12:00-13:00 UTC', '2026-12-05T11:59:30.500Z', '2026-12-05T12:00:00.000Z'],
    ['always', 'always', '2026-12-05T11:59:30.500Z', '2026-12-05T11:59:30.500Z'],
  ])('%s', (_, text, from, expected) => {
    expect(next(text, from)).toBe(expected);
  });

  it('is undefined when the window does not open within the horizon', () => {
    expect(next('Sat 02:00-05:00 UTC', '2026-12-05T05:00:00Z', 6 * DAY)).toBeUndefined();
    expect(next('Sat 02:00-05:00 UTC', '2026-12-05T05:00:00Z', 7 * DAY - 3 * 3_600_000)).toBe(
      '2026-12-12T02:00:00.000Z',
    );
  });

  describe('daylight saving (Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00)', () => {
    it('a window opening in the skipped hour opens when the clock jumps past it', () => {
      // 02:30 does not exist on 29 March; the window 02:30-04:00 opens at 03:00 CEST = 01:00 UTC.
      expect(next('Sun 02:30-04:00 Europe/Berlin', '2026-03-28T23:00:00Z')).toBe('2026-03-29T01:00:00.000Z');
      expect(open('Sun 02:30-04:00 Europe/Berlin', '2026-03-29T00:59:59Z')).toBe(false);
    });

    it('a window after the change keeps its wall-clock time (UTC+2 now)', () => {
      expect(next('Sun 05:00-06:00 Europe/Berlin', '2026-03-28T23:00:00Z')).toBe('2026-03-29T03:00:00.000Z');
      expect(next('Mon 05:00-06:00 Europe/Berlin', '2026-03-28T23:00:00Z')).toBe('2026-03-30T03:00:00.000Z');
    });

    it('a window in the repeated hour opens at its first occurrence, and stays open through both', () => {
      // 02:30 CEST (00:30 UTC) comes first; the clock then reads 02:00-03:00 again in CET.
      expect(next('Sun 02:30-02:45 Europe/Berlin', '2026-10-24T22:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
      expect(open('Sun 02:30-02:45 Europe/Berlin', '2026-10-25T01:35:00Z')).toBe(true);
      expect(open('Sun 02:30-02:45 Europe/Berlin', '2026-10-25T01:00:00Z')).toBe(false);
    });

    it('a window after the fall-back change opens an hour later in UTC', () => {
      expect(next('Sun 05:00-06:00 Europe/Berlin', '2026-10-24T22:00:00Z')).toBe('2026-10-25T04:00:00.000Z');
    });

    it('a window crossing midnight over the change (US: 2026-03-08 02:00 → 03:00)', () => {
      // Saturday 23:00 EST (04:00 UTC) to Sunday 03:30 EDT (07:30 UTC).
      expect(next('Sat 23:00-03:30 America/New_York', '2026-03-07T12:00:00Z')).toBe(
        '2026-03-08T04:00:00.000Z',
      );
      expect(open('Sat 23:00-03:30 America/New_York', '2026-03-08T07:29:00Z')).toBe(true);
      expect(open('Sat 23:00-03:30 America/New_York', '2026-03-08T07:30:00Z')).toBe(false);
    });
  });
});
