/**
 * Restart windows: when a workload may be restarted. Pure: parse a window's text, say whether it is
 * open at an instant, and find its next opening. Local wall-clock times are read through Intl with
 * IANA time zone names (no offsets or DST rules written here), so daylight-saving changes follow
 * the zone database Node ships.
 *
 * Syntax: one or more entries separated by `;`, each `<days> <HH:MM>-<HH:MM> <time zone>`:
 * - days: `Mon`…`Sun` (case-insensitive), ranges `Mon-Fri` (wrapping: `Fri-Mon`), lists `Sat,Sun`,
 *   or `daily` / `*`;
 * - times on a 24-hour clock, end `24:00` allowed; an end at or before the start crosses midnight
 *   (`Fri 22:00-02:00` is Friday 22:00 to Saturday 02:00); the days name the day a window opens;
 * - the time zone: `UTC` or an IANA name (`Europe/Berlin`).
 * `always` means no window (restart at once), e.g. to exempt a workload from the deployment's default.
 * @example parseRestartWindow('Sat,Sun 02:00-05:00 Europe/Berlin; Wed 22:00-01:00 UTC')
 */
import { RestartWindowError } from '../errors';

/** One weekly opening: on each of `days` (0 = Sunday) from `start` to `end` minutes after local midnight. */
export interface WeeklyWindow {
  readonly days: ReadonlySet<number>;
  readonly start: number;
  /** Minutes; at or before `start`: the window ends on the next day. */
  readonly end: number;
  readonly zone: string;
}

/** A parsed window: its text (for messages) and its weekly openings; none means always open. */
export interface RestartWindow {
  readonly text: string;
  readonly windows: readonly WeeklyWindow[];
}

export const ALWAYS_OPEN = 'always';
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
/** Longest text accepted (an annotation, a config value). */
const MAX_TEXT = 512;

/**
 * Parses a window's text; throws {@link RestartWindowError} naming what is wrong.
 * @example parseRestartWindow('Mon-Fri 22:00-06:00 America/New_York')
 */
export function parseRestartWindow(text: string): RestartWindow {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_TEXT) {
    throw new RestartWindowError(`A restart window must be 1 to ${MAX_TEXT} characters`);
  }
  if (trimmed.toLowerCase() === ALWAYS_OPEN) return { text: trimmed, windows: [] };
  const windows = trimmed.split(';').map((entry) => parseEntry(entry.trim()));
  return { text: trimmed, windows };
}

function parseEntry(entry: string): WeeklyWindow {
  const parts = entry.split(/\s+/);
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) {
    throw new RestartWindowError(
      `Restart window entry "${clip(entry)}" is not "<days> <HH:MM>-<HH:MM> <time zone>" (e.g. "Sat,Sun 02:00-05:00 UTC")`,
    );
  }
  const [days, times, zone] = parts;
  const range = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(times);
  if (!range) throw new RestartWindowError(`Restart window times "${clip(times)}" are not HH:MM-HH:MM`);
  const start = minutes(range[1], range[2], false);
  const end = minutes(range[3], range[4], true);
  if (start === undefined || end === undefined) {
    throw new RestartWindowError(
      `Restart window times "${times}" are not valid times of day (00:00 to 24:00)`,
    );
  }
  if (start === end % DAY_MINUTES && end !== DAY_MINUTES) {
    throw new RestartWindowError(`Restart window "${times}" opens and closes at the same time`);
  }
  return { days: parseDays(days), start, end, zone: checkedZone(zone) };
}

function minutes(hours: string | undefined, mins: string | undefined, endOfDay: boolean): number | undefined {
  const h = Number(hours);
  const m = Number(mins);
  if (m > 59) return undefined;
  if (h === 24 && m === 0 && endOfDay) return DAY_MINUTES;
  return h <= 23 ? h * 60 + m : undefined;
}

function parseDays(text: string): ReadonlySet<number> {
  const lower = text.toLowerCase();
  if (lower === 'daily' || lower === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const item of lower.split(',')) {
    const [from, to, extra] = item.split('-');
    const a = DAY_NAMES.indexOf(from ?? '');
    const b = to === undefined ? a : DAY_NAMES.indexOf(to);
    if (a < 0 || b < 0 || extra !== undefined) {
      throw new RestartWindowError(
        `Restart window days "${clip(text)}" are not Mon…Sun, ranges (Mon-Fri), lists (Sat,Sun) or daily`,
      );
    }
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

function checkedZone(zone: string): string {
  try {
    formatter(zone);
    return zone;
  } catch {
    throw new RestartWindowError(`Restart window time zone "${clip(zone)}" is not an IANA time zone name`);
  }
}

interface LocalTime {
  /** 0 = Sunday. */
  readonly weekday: number;
  /** Milliseconds since local midnight. */
  readonly ms: number;
  /** Local wall-clock time minus UTC, in minutes (what Intl says; never computed here). */
  readonly offset: number;
}

/** The wall-clock time in `zone` at instant `t` (ms since the epoch). */
function localTime(t: number, zone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) parts[p.type] = p.value;
  const [h, m, s] = [Number(parts.hour), Number(parts.minute), Number(parts.second)];
  const subsecond = ((t % 1000) + 1000) % 1000;
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), h, m, s);
  return {
    weekday: DAY_NAMES.indexOf((parts.weekday ?? '').toLowerCase()),
    ms: ((h * 60 + m) * 60 + s) * 1000 + subsecond,
    offset: Math.round((asUtc - (t - subsecond)) / MINUTE_MS),
  };
}

function openAt(w: WeeklyWindow, local: LocalTime): boolean {
  const minute = Math.floor(local.ms / MINUTE_MS);
  if (w.end > w.start) return w.days.has(local.weekday) && minute >= w.start && minute < w.end;
  // Crosses midnight: the evening part on an opening day, the morning part on the day after.
  return (
    (w.days.has(local.weekday) && minute >= w.start) ||
    (w.days.has((local.weekday + 6) % 7) && minute < w.end)
  );
}

/**
 * Whether `window` is open at `at` (always, for a window with no entries).
 * @example isWindowOpen(parseRestartWindow('daily 02:00-04:00 UTC'), new Date('2026-01-01T03:00:00Z')) // true
 */
export function isWindowOpen(window: RestartWindow, at: Date): boolean {
  if (window.windows.length === 0) return true;
  return window.windows.some((w) => openAt(w, localTime(at.getTime(), w.zone)));
}

/**
 * The first instant at or after `from` when `window` is open, looking at most `horizonMs` ahead;
 * undefined when it does not open by then. An opening whose wall-clock time a DST change skips is
 * the instant the clock jumps past it (a window 02:30-04:00 on a spring-forward night at 02:00
 * opens at 03:00); a repeated hour opens at its first occurrence.
 * @example nextWindowOpening(parseRestartWindow('Sat 02:00-05:00 UTC'), now, 8 * 86_400_000)
 */
export function nextWindowOpening(window: RestartWindow, from: Date, horizonMs: number): Date | undefined {
  let best: number | undefined;
  for (const w of window.windows.length === 0 ? [undefined] : window.windows) {
    if (!w) return from;
    const opening = nextOpeningOf(w, from.getTime(), from.getTime() + horizonMs);
    if (opening !== undefined && (best === undefined || opening < best)) best = opening;
  }
  return best === undefined ? undefined : new Date(best);
}

/**
 * Walks from boundary to boundary of the local day (the window's start and end, and midnight),
 * jumping in real time by the wall-clock distance to the next one. Where the zone's offset changes
 * within a jump, it lands on the change instead (found by bisection), so a DST change never carries
 * it past an opening.
 */
function nextOpeningOf(w: WeeklyWindow, from: number, until: number): number | undefined {
  const boundaries = [w.start, w.end % DAY_MINUTES, 0].map((m) => m * MINUTE_MS);
  let t = from;
  for (let steps = 0; t <= until && steps < 10_000; steps++) {
    const local = localTime(t, w.zone);
    if (openAt(w, local)) return t;
    const jump = Math.min(
      ...boundaries.map((b) => {
        const d = (b - local.ms + DAY_MINUTES * MINUTE_MS) % (DAY_MINUTES * MINUTE_MS);
        return d === 0 ? DAY_MINUTES * MINUTE_MS : d;
      }),
    );
    const next = t + jump;
    t = localTime(next, w.zone).offset === local.offset ? next : offsetChange(t, next, w.zone, local.offset);
  }
  return undefined;
}

/** The first millisecond in (from, to] whose offset differs from `offset` (one change in between). */
function offsetChange(from: number, to: number, zone: string, offset: number): number {
  let [lo, hi] = [from, to];
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localTime(mid, zone).offset === offset) lo = mid;
    else hi = mid;
  }
  // Offsets change on whole seconds: the first second past `lo` with the new offset.
  return localTime(hi - (hi % 1000), zone).offset === offset ? hi : hi - (hi % 1000);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
