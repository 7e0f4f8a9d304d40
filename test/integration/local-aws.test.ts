import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { LOCAL_MAX_ATTEMPTS, localClients } from '../../harness/local-aws';
import { MotoCallError } from '../../harness/moto-call-error';
import { type MotoFaultProxy, startMotoFaultProxy } from '../support/moto-fault-proxy';

let proxy: MotoFaultProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

/** Answers the first `times` CreateSecret calls with moto's 500 page, then lets them through. */
function failingCreates(times: number) {
  let failed = 0;
  return ({ target }: { target: string }) => target === 'secretsmanager.CreateSecret' && failed++ < times;
}

describe('localClients against moto answering HTTP 500', () => {
  it('retries a call until moto answers it', async () => {
    proxy = await startMotoFaultProxy(inject('motoEndpoint'), failingCreates(LOCAL_MAX_ATTEMPTS - 1));
    const Name = `client-${randomUUID().slice(0, 8)}`;

    const created = await localClients(proxy.endpoint).secretsManager.send(
      new CreateSecretCommand({ Name, SecretString: 'v' }),
    );

    expect(created.Name).toBe(Name);
    expect(created.$metadata.attempts).toBe(LOCAL_MAX_ATTEMPTS);
    expect(proxy.failed).toBe(LOCAL_MAX_ATTEMPTS - 1);
  });

  it('names the operation, the HTTP status and the attempts when moto keeps failing', async () => {
    proxy = await startMotoFaultProxy(inject('motoEndpoint'), failingCreates(Number.POSITIVE_INFINITY));

    const failure = localClients(proxy.endpoint).secretsManager.send(
      new CreateSecretCommand({ Name: `client-${randomUUID().slice(0, 8)}`, SecretString: 'v' }),
    );

    await expect(failure).rejects.toBeInstanceOf(MotoCallError);
    await expect(failure).rejects.toThrow(
      `moto CreateSecret failed with HTTP 500 after ${LOCAL_MAX_ATTEMPTS} attempts: an error page, not the service's JSON`,
    );
    await expect(failure).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  it("passes moto's modelled errors through as the SDK throws them", async () => {
    const failure = localClients(inject('motoEndpoint')).secretsManager.send(
      new DescribeSecretCommand({ SecretId: `missing-${randomUUID()}` }),
    );

    await expect(failure).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
