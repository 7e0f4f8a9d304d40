/**
 * Fault rows A and B (review section 4): AWS status-code faults from the fault proxy
 * (scripts/faults/fault-proxy.ts) between the step bundle and moto, keyed on X-Amz-Target, with
 * seeded decisions. The rotations' own PutSecretValue goes through the proxy too, with the SDK's
 * standard retry strategy; a rotation refused after its retries is requested again, as a caller
 * would. Each row ends with the fault removed, the reconcile run until nothing is left to do, and
 * the oracle (test/support/fault-matrix.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../scripts/faults/fault-proxy';
import { LOCAL_AWS } from '../../scripts/local/moto-server';
import { FAULT_SEED, faultRow, type RowSecret } from '../support/fault-matrix';
import { workflowHarness } from '../support/workflow-harness';

let proxy: FaultProxy | undefined;
const endpoint = () => {
  if (!proxy) throw new Error('fault proxy not started');
  return proxy.endpoint;
};
// Before the harness's own beforeAll, which starts the step bundle with AWS_ENDPOINT_URL read here.
beforeAll(async () => {
  proxy = await startFaultProxy(inject('motoEndpoint'), { seed: FAULT_SEED });
});
afterAll(async () => {
  await proxy?.stop();
});

const wf = workflowHarness({
  restartConcurrency: 2,
  env: {
    // Read when the harness starts the bundle (after the proxy is up): the steps' AWS calls go through it.
    get AWS_ENDPOINT_URL() {
      return endpoint();
    },
  },
});

/** PutSecretValue through the proxy (SDK standard retries), requested again while refused. */
async function putThroughProxy(secretId: string, refused: { count: number }): Promise<string> {
  const client = new SecretsManagerClient({
    endpoint: endpoint(),
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
  });
  try {
    const value = wf.value();
    for (;;) {
      try {
        const out = await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
        return out.VersionId as string;
      } catch (error) {
        if (!/Throttling|InternalService|ServiceUnavailable/.test((error as Error).name)) throw error;
        refused.count++;
        await sleep(500);
      }
    }
  } finally {
    client.destroy();
  }
}

function expectOracle(result: Awaited<ReturnType<ReturnType<typeof faultRow>['oracle']>>) {
  expect(result.problems, result.problems.join('\n')).toEqual([]);
  expect(result.converged).toBe(result.secrets);
  expect(result.duplicates).toBe(0);
  expect(result.lost).toBe(0);
  expect(result.leaks).toBe(0);
  expect(result.staleClaims).toBe(0);
}

describe('fault matrix, AWS status codes (fault proxy)', () => {
  it('A: Secrets Manager throttling, 30 % of every call plus a 5 s burst at 100 %', async () => {
    const row = faultRow(wf, 'A', 'SM ThrottlingException 30 % + 5 s at 100 %');
    const secrets: RowSecret[] = [await row.secret('one'), await row.secret('two')];
    const refused = { count: 0 };
    const rate30 = [{ target: /^secretsmanager\./, rate: 0.3, fault: 'throttle' as const }];
    proxy?.setRules(rate30);
    for (let round = 0; round < 4; round++) {
      for (const s of secrets) {
        if (round === 2 && s === secrets[0]) {
          // The burst: every Secrets Manager call refused for 5 s, from the rotation's put on.
          proxy?.setRules([{ target: /^secretsmanager\./, rate: 1, fault: 'throttle' }]);
          setTimeout(() => proxy?.setRules(rate30), 5_000);
        }
        const versionId = await row.rotate(s, (id) => putThroughProxy(id, refused));
        // Every other rotation an emergency that retires the previous version (UpdateSecretVersionStage).
        const emergency = round % 2 === 1;
        await row.run(
          s,
          versionId,
          emergency ? { emergency: true, retirePrevious: true, trigger: 'emergency' } : {},
        );
      }
    }
    proxy?.setRules([]);
    await row.quiesce();
    const faults = proxy?.faultsByTarget() ?? {};
    row.note(
      `${Object.values(faults).reduce((a, b) => a + b, 0)} calls throttled (${Object.entries(faults)
        .map(([t, n]) => `${t.replace('secretsmanager.', '')} ${n}`)
        .join(', ')}); ${refused.count} puts refused after the SDK's retries`,
    );
    const result = await row.oracle();
    expectOracle(result);
  });

  it('B: DynamoDB throttling and 5xx on PutItem/UpdateItem, 20 %', async () => {
    const row = faultRow(wf, 'B', 'DynamoDB PutItem/UpdateItem 20 % (throttle, 500)');
    const secrets: RowSecret[] = [await row.secret('one'), await row.secret('two')];
    const before = proxy?.log.length ?? 0;
    proxy?.setRules([
      { target: /^DynamoDB_20120810\.(PutItem|UpdateItem)$/, rate: 0.1, fault: 'throttle' },
      { target: /^DynamoDB_20120810\.(PutItem|UpdateItem)$/, rate: 0.1 / 0.9, fault: '500' },
    ]);
    for (let round = 0; round < 4; round++) {
      for (const s of secrets) {
        const versionId = await row.rotate(s);
        await row.run(s, versionId);
      }
    }
    proxy?.setRules([]);
    await row.quiesce();
    const injected = (proxy?.log ?? []).slice(before).filter((e) => e.fault).length;
    row.note(`${injected} ledger writes failed`);
    const result = await row.oracle();
    expectOracle(result);
  });
});
