import { withoutControls } from './terminal-text';

/** One column of a plain-text table. */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
  /** Cells may be cut to fit the width (with "…"); columns without it are never cut. */
  readonly shrinkable?: boolean;
}

const GAP = '  ';
const MIN_CUT_WIDTH = 8;

/**
 * A left-aligned text table with a header row, no borders, at most `width` characters a line when
 * shrinkable columns can be cut that far (the widest is cut first). Cells are single-line text.
 * @example renderTable([{ header: 'NAME' }, { header: 'AGE', align: 'right' }], [['db', '3']], 80)
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width = Number.POSITIVE_INFINITY,
): string {
  const cells = [columns.map((c) => c.header), ...rows].map((row) =>
    columns.map((_, i) => oneLine(row[i] ?? '')),
  );
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  fitWidths(columns, widths, width);
  return cells
    .map((row) =>
      row
        .map((cell, i) => pad(cut(cell, widths[i] ?? 0), widths[i] ?? 0, columns[i]?.align))
        .join(GAP)
        .trimEnd(),
    )
    .join('\n');
}

function fitWidths(columns: readonly Column[], widths: number[], width: number): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  while (total() > width) {
    const candidates = widths
      .map((w, i) => ({ w, i }))
      .filter(({ w, i }) => columns[i]?.shrinkable && w > MIN_CUT_WIDTH);
    const widest = candidates.sort((a, b) => b.w - a.w)[0];
    if (!widest) return;
    widths[widest.i] = Math.max(MIN_CUT_WIDTH, widest.w - (total() - width));
  }
}

function oneLine(text: string): string {
  return withoutControls(text).replace(/\s+/g, ' ').trim();
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function pad(text: string, width: number, align: Column['align']): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}
