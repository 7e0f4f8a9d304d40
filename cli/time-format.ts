import { validate as isArn, parse as parseArn } from '@aws-sdk/util-arn-parser';
/** How the CLI shows times, durations, versions and callers: short, UTC, never ambiguous. */

export const NONE = '-';

/** `2026-11-20 10:02Z` (UTC, minutes), or "-" when absent. */
export function formatTime(time: Date | string | undefined): string {
  if (time === undefined) return NONE;
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) return NONE;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `1h 02m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return NONE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** The first 8 characters of a version id: enough to tell versions apart in a table. */
export function shortVersion(versionId: string | undefined): string {
  return versionId ? versionId.slice(0, 8) : NONE;
}

/** An IAM/STS ARN without its `arn:aws:iam::<account>:` head (`assumed-role/Ops/alice`). */
export function shortActor(actor: string | undefined): string {
  if (!actor) return NONE;
  if (!isArn(actor)) return actor;
  const { service, region, resource } = parseArn(actor);
  return (service === 'iam' || service === 'sts') && region === '' && resource ? resource : actor;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Milliseconds from `90s`, `15m`, `1h`, `500ms` (a bare number is minutes), or undefined when the
 * text is not a positive duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'm') as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}
