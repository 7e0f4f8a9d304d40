import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { LAMBDA_BUNDLING, REPO_ROOT } from '../lambda-defaults';

const BUNDLING_DIR = `${REPO_ROOT}infra/lib/bundling/`;
const UNUSED_KUBECONFIG_FEATURES = `${BUNDLING_DIR}kubeconfig-unused-features.js`;

/**
 * Packages replaced in the bundle of a function that talks to Kubernetes (esbuild's `alias`):
 * undici by the three things @kubernetes/client-node imports from it, and the dependencies of
 * KubeConfig features such a function never uses by stubs that throw. See the two files.
 */
export const KUBERNETES_CLIENT_ALIASES: Readonly<Record<string, string>> = {
  undici: `${BUNDLING_DIR}undici.js`,
  socks: UNUSED_KUBECONFIG_FEATURES,
  'socks-proxy-agent': UNUSED_KUBECONFIG_FEATURES,
  hpagent: UNUSED_KUBECONFIG_FEATURES,
  'openid-client': UNUSED_KUBECONFIG_FEATURES,
  'jsonpath-plus': UNUSED_KUBECONFIG_FEATURES,
  'js-yaml': UNUSED_KUBECONFIG_FEATURES,
};

/**
 * `esbuildDetection` is the flag undici's own build for Node.js core defines: its HTTP/1 client
 * then leaves out the experimental Milo parser (opt-in through UNDICI_USE_MILO, about 165 KiB)
 * and keeps llhttp, the parser Node.js itself ships. It also makes fetch's default User-Agent
 * `node`; our Kubernetes requests set their own.
 */
export const KUBERNETES_CLIENT_DEFINE: Readonly<Record<string, string>> = { esbuildDetection: 'true' };

/**
 * {@link LAMBDA_BUNDLING} for a function that talks to Kubernetes (the propagation step): the
 * aliases and define above. Measured by `npm run bench`; the bundle's HTTPS path (cluster CA,
 * bearer token) is exercised by test/unit/kubernetes-transport.test.ts.
 */
export const KUBERNETES_CLIENT_BUNDLING: nodejs.BundlingOptions = {
  ...LAMBDA_BUNDLING,
  define: { ...LAMBDA_BUNDLING.define, ...KUBERNETES_CLIENT_DEFINE },
  esbuildArgs: {
    ...LAMBDA_BUNDLING.esbuildArgs,
    '--alias': Object.entries(KUBERNETES_CLIENT_ALIASES).map(([name, path]) => `${name}=${path}`),
  },
};
