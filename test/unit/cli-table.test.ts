import { describe, expect, it } from 'vitest';
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
