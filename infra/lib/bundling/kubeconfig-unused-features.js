// Stands in, in the propagation step's bundle only, for the packages @kubernetes/client-node's
// KubeConfig imports for features the step never uses: proxies (socks, socks-proxy-agent, hpagent),
// the OIDC, Azure and GCP auth providers (openid-client, jsonpath-plus) and kubeconfig files
// (js-yaml). The step builds its KubeConfig in code, for an EKS endpoint with its CA and a bearer
// token (shared/kubernetes/eks-cluster.ts), so none of these is called; if one ever is, it fails
// loudly. Together with their own dependencies they are about 185 KiB of the bundle.
// A named import this file lacks fails the build; a namespace import's member it lacks is an
// esbuild warning ("will always be undefined").
function notBundled(packageName) {
  // A function, not an arrow: `new` on these must reach the throw.
  return function unavailable() {
    throw new Error(
      `${packageName} is not bundled into this function (infra/lib/bundling/kubeconfig-unused-features.js)`,
    );
  };
}

export const SocksClient = { createConnection: notBundled('socks') };
export const SocksProxyAgent = notBundled('socks-proxy-agent');
export const HttpProxyAgent = notBundled('hpagent');
export const HttpsProxyAgent = notBundled('hpagent');
export const discovery = notBundled('openid-client');
export const refreshTokenGrant = notBundled('openid-client');
export const customFetch = Symbol('openid-client customFetch');
export const JSONPath = notBundled('jsonpath-plus');
export const load = notBundled('js-yaml');
