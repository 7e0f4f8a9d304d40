import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  InvalidEventError,
  RotationInProgressError,
  SecretNotManagedError,
} from '../../shared/errors';
import { statusOf } from '../../shared/requests/handle-rotation-request';
import {
  classifyEvent,
  type FunctionUrlEvent,
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
  requestFromFunctionUrl,
} from '../../shared/requests/rotation-request-event';

const EVENT_ID = '6a7e8feb-b491-4cf7-a9f1-bf3703467718';
const event = (detail: object, extra: object = {}) => ({
  version: '0',
  id: EVENT_ID,
  'detail-type': ROTATION_REQUEST_DETAIL_TYPE,
  source: ROTATION_REQUEST_SOURCE,
  account: '123456789012',
  time: '2026-11-23T12:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
  ...extra,
});
const urlEvent = (body: string, isBase64Encoded = false) =>
  ({
    version: '2.0',
    body,
    isBase64Encoded,
    requestContext: { http: { method: 'POST' } },
  }) as unknown as FunctionUrlEvent;

describe('classifyEvent', () => {
  it('turns the custom event into a request: trigger request, actor from requestedBy, version = event id', () => {
    expect(classifyEvent(event({ secretId: 'prod/app/db', reason: 'leak', requestedBy: 'scanner' }))).toEqual(
      {
        kind: 'eventbridge',
        request: {
          secretId: 'prod/app/db',
          reason: 'leak',
          actor: 'eventbridge:scanner',
          trigger: 'request',
          emergency: false,
          retirePrevious: false,
          versionId: EVENT_ID,
        },
      },
    );
  });

  it('names the sending account as the actor when requestedBy is absent, and accepts the options set to false', () => {
    const classified = classifyEvent(
      event({ secretId: 'prod/app/db', reason: 'r', emergency: false, retirePrevious: false }),
    );
    expect(classified).toMatchObject({
      request: { actor: 'eventbridge:123456789012', emergency: false, retirePrevious: false },
    });
  });

  it.each([
    ['emergency', { emergency: true }],
    ['retirePrevious', { retirePrevious: true }],
    ['both', { emergency: true, retirePrevious: true }],
  ])(
    'refuses the custom event asking for %s: only the IAM-authenticated URL may (review H1)',
    (_name, options) => {
      expect(() => classifyEvent(event({ secretId: 'prod/app/db', reason: 'r', ...options }))).toThrow(
        /honoured only at the IAM-authenticated emergency URL/,
      );
    },
  );

  it('recognizes a function URL request (payload 2.0 with requestContext.http)', () => {
    expect(classifyEvent(urlEvent('{}'))).toMatchObject({ kind: 'function-url' });
  });

  it.each([
    ['a rotation step event', { Step: 'createSecret', SecretId: 'x', ClientRequestToken: 'y' }],
    ['another source', event({ secretId: 'x', reason: 'r' }, { source: 'my.app' })],
    [
      'the right source with another detail-type',
      event({ secretId: 'x', reason: 'r' }, { 'detail-type': 'Other' }),
    ],
    ['the custom event with emergency as a string', event({ secretId: 'x', reason: 'r', emergency: 'true' })],
    ['the custom event without detail', event({}, { detail: undefined })],
    ['null', null],
  ])('refuses %s with an InvalidEventError', (_name, raw) => {
    expect(() => classifyEvent(raw)).toThrow(InvalidEventError);
  });
});

describe('requestFromFunctionUrl', () => {
  it('reads a base64 body; the IAM caller is the actor; always an emergency', () => {
    const body = Buffer.from(JSON.stringify({ secretId: 'prod/app/db', reason: 'leak' })).toString('base64');
    expect(requestFromFunctionUrl(urlEvent(body, true), 'arn:aws:iam::1:role/r')).toEqual({
      secretId: 'prod/app/db',
      reason: 'leak',
      actor: 'arn:aws:iam::1:role/r',
      trigger: 'emergency',
      emergency: true,
      retirePrevious: false,
    });
  });

  it.each([
    ['no body', ''],
    ['a body that is not JSON', 'secretId=x'],
    ['an unknown field', JSON.stringify({ secretId: 'x', reason: 'r', emergency: false })],
    ['retirePrevious as a string', JSON.stringify({ secretId: 'x', reason: 'r', retirePrevious: 'yes' })],
  ])('refuses %s with an InvalidEventError', (_name, body) => {
    expect(() => requestFromFunctionUrl(urlEvent(body), 'arn')).toThrow(InvalidEventError);
  });
});

describe('statusOf', () => {
  it.each<[string, unknown, number]>([
    ['InvalidEventError', new InvalidEventError('bad'), 400],
    ['SecretNotManagedError', new SecretNotManagedError('x'), 403],
    ['RotationInProgressError', new RotationInProgressError('x', 'p'), 409],
    ['AwsCallError', new AwsCallError('RotateSecret', 'Throttling', 400, 'm'), 500],
    ['anything else', new TypeError('x'), 500],
  ])('%s → %i', (_name, error, status) => {
    expect(statusOf(error)).toBe(status);
  });
});
