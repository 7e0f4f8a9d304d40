import { describe, expect, it } from 'vitest';
import { createProgressLine } from '../../cli/progress-line';

const ESC = '\u001b';

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { write: (s: string) => writes.push(s), isTTY }, writes };
}

describe('progress line without a TTY (CI logs)', () => {
  it('prints one plain line when the message changes, not on every update', () => {
    let now = 0;
    const { stream, writes } = recorder(false);
    const line = createProgressLine({ stream, now: () => now, timer: false });
    line.update('rotation: AWSPENDING');
    now = 2000;
    line.update('rotation: AWSPENDING');
    now = 4000;
    line.update('propagation: in progress');
    expect(writes).toEqual(['rotation: AWSPENDING (0 ms)\n', 'propagation: in progress (4.0 s)\n']);
  });

  it('repeats an unchanged message once every interval (about 10 s)', () => {
    let now = 0;
    const { stream, writes } = recorder(false);
    const line = createProgressLine({ stream, now: () => now, timer: false });
    for (now = 0; now <= 25_000; now += 2000) line.update('rotation: AWSPENDING');
    expect(writes).toEqual([
      'rotation: AWSPENDING (0 ms)\n',
      'rotation: AWSPENDING (10.0 s)\n',
      'rotation: AWSPENDING (20.0 s)\n',
    ]);
  });

  it('never writes terminal control characters', () => {
    const { stream, writes } = recorder(false);
    const line = createProgressLine({ stream, timer: false });
    line.update('rotation: waiting');
    line.done('done');
    expect(writes.join('')).not.toContain('\r');
    expect(writes.join('')).not.toContain(ESC);
    expect(writes.at(-1)).toBe('done\n');
  });
});

describe('progress line on a TTY', () => {
  it('rewrites one line in place with elapsed time, and ends it with the final message', () => {
    let now = 0;
    const { stream, writes } = recorder(true);
    const line = createProgressLine({ stream, now: () => now, timer: false });
    line.update('rotation: AWSPENDING');
    now = 1500;
    line.update('rotation: AWSPENDING');
    line.done('done');
    expect(writes).toHaveLength(3);
    const clear = `\r${ESC}[2K`;
    expect(writes[0]?.startsWith(clear)).toBe(true);
    expect(writes[0]?.slice(clear.length)).toMatch(/^. rotation: AWSPENDING \(0 ms\)$/);
    expect(writes[1]?.slice(clear.length)).toMatch(/^. rotation: AWSPENDING \(1\.5 s\)$/);
    expect(writes[2]).toBe(`${clear}done\n`);
  });
});
