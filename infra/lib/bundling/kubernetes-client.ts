import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { builtinAliases, dependencyAliases, LAMBDA_BUNDLING, REPO_ROOT } from '../lambda-defaults';

/**
 * Packages replaced in the bundle of a function that talks to Kubernetes (esbuild's `alias`):
 * undici by its Agent and request(), all the transports use (see undici.js). Such a function does
 * not bundle @kubernetes/client-node: it reaches EKS without a KubeConfig.
 */
export const KUBERNETES_CLIENT_ALIASES: Readonly<Record<string, string>> = {
  undici: `${REPO_ROOT}infra/lib/bundling/undici.js`,
};

/**
 * `esbuildDetection` is the flag undici's own build for Node.js core defines: its HTTP/1 client
 * then leaves out the experimental Milo parser (opt-in through UNDICI_USE_MILO, about 165 KiB)
 * and keeps llhttp, the parser Node.js itself ships.
 */
export const KUBERNETES_CLIENT_DEFINE: Readonly<Record<string, string>> = { esbuildDetection: 'true' };

/**
 * {@link LAMBDA_BUNDLING} for a function that talks to Kubernetes (the propagation step): the
 * alias and define above. Measured by `npm run bench`; the bundle's HTTPS path (cluster CA,
 * bearer token) is exercised by test/unit/kubernetes-transport.test.ts, and what it contains by
 * test/unit/infra/kubernetes-client-bundling.test.ts.
 */
export const KUBERNETES_CLIENT_BUNDLING: nodejs.BundlingOptions = {
  ...LAMBDA_BUNDLING,
  define: { ...LAMBDA_BUNDLING.define, ...KUBERNETES_CLIENT_DEFINE },
  esbuildArgs: {
    ...LAMBDA_BUNDLING.esbuildArgs,
    '--alias': [
      ...builtinAliases(),
      ...dependencyAliases(),
      ...Object.entries(KUBERNETES_CLIENT_ALIASES).map(([name, path]) => `${name}=${path}`),
    ],
  },
};
