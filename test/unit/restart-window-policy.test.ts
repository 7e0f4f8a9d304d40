import { describe, expect, it } from 'vitest';
import { RestartWindowError } from '../../shared/errors';
import { NO_WINDOWS, restartWindowPolicy, windowDecision } from '../../shared/workflow/restart-window-policy';

const KEY = 'secret-rotator.io/restart-window';
const workload = (
  namespace: string,
  window?: string,
): { namespace: string; annotations: Record<string, string> } => ({
  namespace,
  annotations: window === undefined ? {} : { [KEY]: window },
});
// 2026-12-04 is a Friday.
const now = new Date('2026-12-04T12:00:00Z');
const context = { now, since: now, emergency: false };
const policy = restartWindowPolicy({
  default: 'Sat 02:00-05:00 UTC',
  namespaces: { payments: 'Fri 12:00-13:00 UTC', batch: 'always' },
});

describe('windowDecision', () => {
  it.each([
    ['no window anywhere', workload('web'), NO_WINDOWS, { state: 'open' }],
    [
      'the deployment default, closed',
      workload('web'),
      policy,
      { state: 'held', opensAt: new Date('2026-12-05T02:00:00Z'), window: 'Sat 02:00-05:00 UTC' },
    ],
    ['the namespace window, open', workload('payments'), policy, { state: 'open' }],
    ['the namespace exempt (always)', workload('batch'), policy, { state: 'open' }],
    [
      'the annotation wins over the namespace',
      workload('payments', 'Sun 01:00-02:00 UTC'),
      policy,
      { state: 'held', opensAt: new Date('2026-12-06T01:00:00Z'), window: 'Sun 01:00-02:00 UTC' },
    ],
    ['the annotation `always` wins over the default', workload('web', 'always'), policy, { state: 'open' }],
  ])('%s', (_, w, p, expected) => {
    expect(windowDecision(w, p, context)).toEqual(expected);
  });

  it('an emergency restarts at once whatever the window', () => {
    expect(
      windowDecision(workload('web', 'Sun 01:00-02:00 UTC'), policy, { ...context, emergency: true }),
    ).toEqual({
      state: 'open',
    });
  });

  it('a malformed annotation refuses the workload, naming the annotation and the problem', () => {
    const decision = windowDecision(workload('web', 'Caturday 02:00-05:00 UTC'), policy, context);
    expect(decision).toEqual({
      state: 'refused',
      reason: expect.stringMatching(
        /^RestartWindowError: annotation secret-rotator.io\/restart-window: .*"Caturday"/,
      ),
    });
  });

  it('a window further than the longest wait (from the plan, not from now) is refused', () => {
    const plannedAt = new Date('2026-12-01T12:00:00Z');
    const far = windowDecision(workload('web', 'Thu 01:00-02:00 UTC'), NO_WINDOWS, {
      ...context,
      since: plannedAt,
      maxWaitMs: 4 * 86_400_000,
    });
    expect(far).toEqual({
      state: 'refused',
      reason:
        'RestartWindowError: restart window "Thu 01:00-02:00 UTC" does not open within 4 days of the plan; not restarted',
    });
    const near = windowDecision(workload('web', 'Sat 01:00-02:00 UTC'), NO_WINDOWS, {
      ...context,
      since: plannedAt,
      maxWaitMs: 4 * 86_400_000,
    });
    expect(near.state).toBe('held');
  });
});

describe('restartWindowPolicy', () => {
  it('refuses a malformed deployment window, naming where it is', () => {
    expect(() => restartWindowPolicy({ namespaces: { payments: 'Sat 02:00 UTC' } })).toThrow(
      RestartWindowError,
    );
    expect(() => restartWindowPolicy({ namespaces: { payments: 'Sat 02:00 UTC' } })).toThrow(
      /^restartWindows.namespaces.payments: /,
    );
    expect(() => restartWindowPolicy({ default: 'Sat 02:00-03:00 Nowhere/City' })).toThrow(
      /^restartWindows.default: /,
    );
  });

  it('is no windows when not configured', () => {
    expect(restartWindowPolicy(undefined)).toBe(NO_WINDOWS);
  });
});
