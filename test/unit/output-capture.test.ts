import { describe, expect, it } from 'vitest';
import { captureOutput, findLeakedValues } from '../support/output-capture';

describe('findLeakedValues', () => {
  it('finds a value printed as is', () => {
    expect(findLeakedValues('{"message":"x","v":"s3cr3t-value-1"}', ['s3cr3t-value-1'])).toEqual([
      's3cr3t-value-1',
    ]);
  });

  it('finds a value printed JSON-escaped', () => {
    const value = 'a"quoted\\value-1';
    expect(findLeakedValues(JSON.stringify({ v: value }), [value])).toEqual([value]);
  });

  it('reports nothing when no value was printed', () => {
    expect(findLeakedValues('{"message":"rotation step done"}', ['s3cr3t-value-1'])).toEqual([]);
  });
});

describe('captureOutput', () => {
  it('captures what is written to stdout and stderr until stopped', () => {
    const capture = captureOutput();
    process.stdout.write('captured-line-out\n');
    process.stderr.write('captured-line-err\n');
    capture.stop();
    process.stdout.write('after-stop\n');

    expect(capture.text()).toContain('captured-line-out');
    expect(capture.text()).toContain('captured-line-err');
    expect(capture.text()).not.toContain('after-stop');
  });
});
