import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../shared/errors';
import { parseRotationEvent } from '../../shared/rotation/rotation-event';

const TOKEN = '9f1d7c3e-2b4a-4e6f-8a1b-0c2d3e4f5a6b';
const valid = { Step: 'createSecret', SecretId: 'prod/app-team/db', ClientRequestToken: TOKEN };

describe('parseRotationEvent', () => {
  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'])('accepts Step %s', (Step) => {
    expect(parseRotationEvent({ ...valid, Step }).Step).toBe(Step);
  });

  it('keeps RotationToken and drops unknown fields', () => {
    const parsed = parseRotationEvent({ ...valid, RotationToken: 'rt-1', Extra: 'x' });
    expect(parsed).toEqual({ ...valid, RotationToken: 'rt-1' });
  });

  it.each([
    ['a missing Step', { SecretId: 'a', ClientRequestToken: TOKEN }, /Step/],
    ['an unknown Step', { ...valid, Step: 'rotate' }, /Step/],
    ['an empty SecretId', { ...valid, SecretId: '' }, /SecretId/],
    ['a short token', { ...valid, ClientRequestToken: 'abc' }, /ClientRequestToken/],
    ['a numeric token', { ...valid, ClientRequestToken: 42 }, /ClientRequestToken/],
    ['null', null, /event/],
    ['an array', [valid], /event/],
  ])('refuses %s with InvalidEventError naming the field', (_name, event, field) => {
    expect(() => parseRotationEvent(event)).toThrow(InvalidEventError);
    expect(() => parseRotationEvent(event)).toThrow(field);
  });

  it('never echoes field values in its message', () => {
    const value = 'secret-looking-value-xyz';
    expect(() => parseRotationEvent({ ...valid, Step: value })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(value) }),
    );
  });
});
