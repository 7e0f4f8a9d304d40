import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createSecrets } from '../../harness/local-secrets';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { countOperations } from '../support/rotation-harness';

const clients = localClients(inject('motoEndpoint'));
const secretsManager = new SecretsManagerAdapter(clients.secretsManager);
const run = randomUUID().slice(0, 8);
const MANAGED = [`sweep-${run}/team-a/`, `sweep-${run}/team-b/`];

beforeAll(async () => {
  const names = [
    ...Array.from({ length: 180 }, (_, i) => `${MANAGED[0]}secret-${i}`),
    ...Array.from({ length: 45 }, (_, i) => `${MANAGED[1]}secret-${i}`),
    ...Array.from({ length: 20 }, (_, i) => `sweep-${run}/team-c/secret-${i}`),
    `sweep-${run}/team-a`,
  ];
  await createSecrets(
    clients.secretsManager,
    names.map((Name) => ({ Name, SecretString: 'x', Tags: [{ Key: 'team', Value: 'a' }] })),
  );
});

describe('SecretsManagerAdapter.listManagedSecrets against Secrets Manager (moto over HTTP)', () => {
  it('returns every secret under the managed prefixes and nothing else, 100 a page', async () => {
    const recorder = countOperations(clients);
    const secrets = await secretsManager.listManagedSecrets(MANAGED);
    clients.secretsManager.middlewareStack.remove('countOperations');

    expect(secrets).toHaveLength(225);
    expect(secrets.every((s) => MANAGED.some((p) => s.name.startsWith(p)))).toBe(true);
    expect(recorder.calls.every((call) => call === 'ListSecrets')).toBe(true);
    expect(recorder.calls.length).toBeLessThanOrEqual(3);
  });

  it('carries what the sweep needs without another call', async () => {
    const [first] = await secretsManager.listManagedSecrets([`${MANAGED[0]}secret-7`]);
    expect(first).toMatchObject({
      name: `${MANAGED[0]}secret-7`,
      rotationEnabled: false,
      tags: { team: 'a' },
    });
    expect(first?.createdDate).toBeInstanceOf(Date);
    expect(Object.values(first?.versionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
  });
});
