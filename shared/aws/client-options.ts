/**
 * What every AWS SDK client of the functions is built with. The SDK's defaults have no connection
 * or request timeout (0), and a request past `requestTimeout` only logs a warning unless
 * `throwOnRequestTimeout` is set, so a black-holed endpoint held a step until Lambda's own timeout
 * (review M1). A timed-out request fails with `TimeoutError`, which the SDK's standard retry
 * strategy retries (3 attempts in all) like any other transient error.
 * @example new SecretsManagerClient(AWS_CLIENT_OPTIONS)
 */
export const AWS_CLIENT_OPTIONS = {
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;
