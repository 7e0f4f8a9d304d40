import { describe, expect, it } from 'vitest';
import { redactedBody } from '../../scripts/faults/fault-proxy';
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

describe('the AWS fault proxy’s hooks see no secret values', () => {
  it('replaces SecretString and SecretBinary and keeps the other parameters', () => {
    const value = 'hunter2-not-for-hooks';
    const body = Buffer.from(
      JSON.stringify({ SecretId: 'prod/app/db', SecretString: value, ClientRequestToken: 't-1' }),
    );
    const seen = redactedBody(body);
    expect(seen).not.toContain(value);
    expect(JSON.parse(seen)).toEqual({
      SecretId: 'prod/app/db',
      SecretString: '[redacted]',
      ClientRequestToken: 't-1',
    });
    expect(redactedBody(Buffer.from('{"SecretBinary": "aGk=", "SecretId": "x"}'))).not.toContain('aGk=');
    expect(redactedBody(Buffer.from('"SecretString": broken'))).not.toContain('broken');
  });

  it('passes a body without secret values unchanged (the crash row matches on DynamoDB keys)', () => {
    const text = '{"TableName":"t","Key":{"pk":{"S":"SECRET#a"}}}';
    expect(redactedBody(Buffer.from(text))).toBe(text);
  });
});
