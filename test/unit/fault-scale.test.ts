import { describe, expect, it } from 'vitest';
import { faultScale, timeoutScale } from '../support/fault-harness-scale';

describe('FAULT_SCALE (the fault matrix’s long tier)', () => {
  it.each([
    [undefined, 1],
    ['', 1],
    ['1', 1],
    ['9', 9],
    ['50', 50],
  ])('%j → %i', (value, scale) => {
    expect(faultScale(value)).toBe(scale);
  });

  it.each(['0', '-2', '2.5', '51', 'nine', '9x'])(
    'refuses %j with a RangeError naming the variable',
    (value) => {
      expect(() => faultScale(value)).toThrow(/FAULT_SCALE must be a whole number from 1 to 50/);
    },
  );

  it('gives the config a timeout factor without throwing, so a bad FAULT_SCALE cannot stop other projects', () => {
    expect(timeoutScale('9')).toBe(9);
    expect(timeoutScale('100')).toBe(1);
    expect(timeoutScale(undefined)).toBe(1);
  });
});
