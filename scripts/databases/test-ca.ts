import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA made for one server start, and the server certificate it signed for 127.0.0.1/localhost. */
export interface TestCertificates {
  /** PEM of the CA, for clients to trust. */
  readonly caPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Generates a fresh CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost) in `dir` with
 * the openssl CLI (scripts/databases/ensure.sh installs it). Nothing is reused between starts.
 */
export function generateTestCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ...['req', '-x509', ...key, '-days', '2', '-subj', '/CN=rotator test CA'],
    ...['-keyout', path('ca.key'), '-out', path('ca.pem')],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  openssl('req', ...key, '-subj', '/CN=localhost', '-keyout', path('server.key'), '-out', path('server.csr'));
  writeFileSync(
    path('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    ...['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key')],
    ...['-CAcreateserial', '-days', '2', '-out', path('server.pem'), '-extfile', path('server.ext')],
  );
  return {
    caPem: readFileSync(path('ca.pem'), 'utf8'),
    caFile: path('ca.pem'),
    certFile: path('server.pem'),
    keyFile: path('server.key'),
  };
}
