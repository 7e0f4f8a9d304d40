// @aws-sdk/credential-provider-node for a function bundle. Lambda always gives a function its
// role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, so the
// default chain's other links (profiles, SSO, web identity, process, container and instance
// metadata) never run there; they and the STS/SSO clients they carry (@aws-sdk/nested-clients)
// weighed on every bundle. Without those variables the SDK fails with fromEnv's
// CredentialsProviderError ("Unable to find environment variable credentials."), never a silent
// fallback. See DEPENDENCY_ALIASES in infra/lib/lambda-defaults.ts.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);
// The same rules as the real module's: refresh credentials that expire, five minutes early.
export const credentialsWillNeedRefresh = (credentials) => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
