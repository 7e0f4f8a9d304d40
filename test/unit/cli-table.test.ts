import { describe, expect, it } from 'vitest';
import { writeLine } from '../../cli/cli-context';
import { renderTable } from '../../cli/table';

const COLUMNS = [
  { header: 'NAME', shrinkable: true },
  { header: 'AGE', align: 'right' as const },
  { header: 'FLAGS' },
];

describe('renderTable', () => {
  it('aligns columns under their headers, numbers to the right, with no trailing spaces', () => {
    const text = renderTable(COLUMNS, [
      ['prod/app/db', '3d', 'ok'],
      ['prod/app/api-key', '120d', 'OVERDUE'],
    ]);
    expect(text.split('\n')).toEqual([
      'NAME               AGE  FLAGS',
      'prod/app/db         3d  ok',
      'prod/app/api-key  120d  OVERDUE',
    ]);
  });

  it('cuts only shrinkable columns, with an ellipsis, to fit the width', () => {
    const text = renderTable(COLUMNS, [['prod/app-team/a-very-long-secret-name', '1d', 'STUCK']], 30);
    const lines = text.split('\n');
    expect(lines.map((line) => line.length)).toEqual([30, 30]);
    expect(lines[1]).toBe('prod/app-team/a-v…   1d  STUCK');
  });

  it('never cuts a column below 8 characters, even when the width cannot be met', () => {
    const text = renderTable(COLUMNS, [['prod/app-team/secret', '1d', 'NOT-PROPAGATED']], 10);
    expect(text.split('\n')[1]).toMatch(/^prod\/ap… /);
  });

  it('keeps every cell on one line', () => {
    expect(renderTable([{ header: 'REASON' }], [['leaked\nin a log']]).split('\n')).toEqual([
      'REASON',
      'leaked in a log',
    ]);
  });
});

describe('terminal control characters', () => {
  const hostile = 'refused\u001b[2J\u0007 by \u009b31mmallory\u007f\tnow';

  it('never reach a table cell (ESC, BEL, CSI, DEL stripped; widths count what is shown)', () => {
    const out = renderTable([{ header: 'REASON' }], [[hostile]]);
    for (const control of ['\u001b', '\u0007', '\u009b', '\u007f']) expect(out).not.toContain(control);
    expect(out).toContain('refused[2J by 31mmallory now');
  });

  it('never reach a written line; newlines and tabs stay', () => {
    let written = '';
    writeLine({ write: (s: string) => (written += s) } as never, `${hostile}\nnext`);
    expect(written).toBe('refused[2J by 31mmallory\tnow\nnext\n');
  });
});
