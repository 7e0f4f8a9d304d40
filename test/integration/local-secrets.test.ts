import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createSecrets, MOTO_WRITE_CONCURRENCY } from '../../harness/local-secrets';
import { listManagedSecrets } from '../../shared/aws/secrets-manager-adapter';
import { type MotoFaultProxy, startMotoFaultProxy } from '../support/moto-fault-proxy';

const moto = localClients(inject('motoEndpoint'));
let proxy: MotoFaultProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

/** `count` secrets under a prefix of their own, as set-up creates them. */
function secretsUnder(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ Name: `${prefix}secret-${i}`, SecretString: `v${i}` }));
}

/** Fails the first `times` CreateSecret calls for each secret `pick` chooses, as moto's race does. */
function failCreates(times: number, pick: (name: string) => boolean) {
  const failures = new Map<string, number>();
  return ({ target, body }: { target: string; body: string }) => {
    if (target !== 'secretsmanager.CreateSecret') return false;
    const name = String((JSON.parse(body) as { Name?: unknown }).Name);
    const seen = failures.get(name) ?? 0;
    if (!pick(name) || seen >= times) return false;
    failures.set(name, seen + 1);
    return true;
  };
}

describe('createSecrets against moto', () => {
  it('creates every secret when moto answers some CreateSecret calls with 500 twice in a row', async () => {
    const prefix = `set-up-${randomUUID().slice(0, 8)}/`;
    const secrets = secretsUnder(prefix, 100);
    proxy = await startMotoFaultProxy(
      inject('motoEndpoint'),
      failCreates(2, (name) => Number(name.split('-').at(-1)) % 5 === 0),
    );

    const arns = await createSecrets(localClients(proxy.endpoint).secretsManager, secrets);

    expect(proxy.failed).toBe(40);
    expect(arns).toHaveLength(100);
    const stored = await listManagedSecrets(moto.secretsManager, [prefix]);
    expect(stored.map((s) => s.name).sort()).toEqual(secrets.map((s) => s.Name).sort());
  });

  it(`keeps at most ${MOTO_WRITE_CONCURRENCY} CreateSecret calls in flight`, async () => {
    proxy = await startMotoFaultProxy(inject('motoEndpoint'), () => false);

    await createSecrets(
      localClients(proxy.endpoint).secretsManager,
      secretsUnder(`set-up-${randomUUID().slice(0, 8)}/`, 40),
    );

    expect(MOTO_WRITE_CONCURRENCY).toBeLessThanOrEqual(4);
    expect(proxy.maxInFlight).toBeLessThanOrEqual(MOTO_WRITE_CONCURRENCY);
  });
});
