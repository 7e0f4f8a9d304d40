import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors';
import {
  loadRequestConfig,
  REQUEST_DEFAULTS,
  requestEnvironment,
} from '../../shared/requests/request-config';

const REQUIRED = { managedPrefixes: ['prod/a/'], ledgerTableName: 'rotation-ledger' };

describe('requestEnvironment', () => {
  it('writes what loadRequestConfig reads back', () => {
    const config = { ...REQUIRED, stuckAfterMs: 7_200_000, emergencyCooldownMs: 1_800_000 };
    expect(loadRequestConfig(requestEnvironment(config))).toEqual(config);
  });

  it('writes the default stuck threshold (an hour), the one the function reads without it', () => {
    const written = requestEnvironment(REQUIRED);
    expect(written.ROTATOR_STUCK_AFTER_MINUTES).toBe('60');
    expect(loadRequestConfig(written)).toEqual({ ...REQUIRED, ...REQUEST_DEFAULTS });
    expect(
      loadRequestConfig({ ROTATOR_MANAGED_PREFIXES: 'prod/a/', ROTATOR_LEDGER_TABLE: 'rotation-ledger' }),
    ).toEqual(loadRequestConfig(written));
  });

  it('writes the default emergency cooldown (15 minutes), and 0 to disable it', () => {
    expect(requestEnvironment(REQUIRED).ROTATOR_EMERGENCY_COOLDOWN_MINUTES).toBe('15');
    const disabled = requestEnvironment({ ...REQUIRED, emergencyCooldownMs: 0 });
    expect(disabled.ROTATOR_EMERGENCY_COOLDOWN_MINUTES).toBe('0');
    expect(loadRequestConfig(disabled).emergencyCooldownMs).toBe(0);
  });

  it.each([
    ['a negative cooldown', '-1'],
    ['a cooldown over a day', '1441'],
    ['a fractional cooldown', '1.5'],
  ])('fails fast at cold start with %s', (_name, value) => {
    expect(() =>
      loadRequestConfig({ ...requestEnvironment(REQUIRED), ROTATOR_EMERGENCY_COOLDOWN_MINUTES: value }),
    ).toThrow(/ROTATOR_EMERGENCY_COOLDOWN_MINUTES/);
  });

  it('refuses a threshold that is not whole minutes when writing', () => {
    expect(() => requestEnvironment({ ...REQUIRED, stuckAfterMs: 90_000 })).toThrow(ConfigError);
    expect(() => requestEnvironment({ ...REQUIRED, emergencyCooldownMs: 90_000 })).toThrow(
      /ROTATOR_EMERGENCY_COOLDOWN_MINUTES takes whole minutes/,
    );
  });

  it('fails fast at cold start without the ledger table', () => {
    expect(() => loadRequestConfig({ ROTATOR_MANAGED_PREFIXES: 'p/' })).toThrow(
      /ROTATOR_LEDGER_TABLE is required/,
    );
  });
});
