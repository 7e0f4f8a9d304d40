import type { RotationFigures } from './rotation-tracker';

/** One arm of bench/reloader.ts: its figures and what to print under the table. */
export interface ArmRow {
  readonly arm: string;
  /** 1-minute load average when the arm rotated. */
  readonly load: number;
  readonly figures: RotationFigures;
  /** The restarter's API writes, or why there are none. */
  readonly writes: string;
  readonly details: readonly string[];
}

/** The arms as a markdown table, then each arm's details, one line each. */
export function comparisonTable(rows: readonly ArmRow[]): string[] {
  const s = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));
  const lines = [
    '| arm | secret updated, first–last (s) | last rollout done (s) | restarts per workload (min/max) | workloads missed | API writes | peak in-flight rollouts | 1-min load at start |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const { arm, load, figures: f, writes } of rows) {
    const partly = f.secretsUpdated < f.secrets ? ` (${f.secretsUpdated}/${f.secrets})` : '';
    const done = `${s(f.lastRolloutS)}${f.notDone ? ` (${f.notDone} not done)` : ''}`;
    lines.push(
      `| ${arm} | ${s(f.firstSecretS)}–${s(f.lastSecretS)}${partly} | ${done} | ${f.restartsMin}/${f.restartsMax} | ` +
        `${f.missed} of ${f.consumers} | ${writes} | ${f.peakInFlight} | ${load.toFixed(2)} |`,
    );
  }
  lines.push('');
  for (const { arm, details } of rows) for (const d of details) lines.push(`${arm}: ${d}`);
  return lines;
}
