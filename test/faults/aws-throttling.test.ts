/**
 * Fault rows A, B and D (review section 4): AWS status-code faults from the fault proxy
 * (scripts/faults/fault-proxy.ts) between the step bundle and moto, keyed on X-Amz-Target, with
 * seeded decisions. The rotations' own PutSecretValue goes through the proxy too, with the SDK's
 * standard retry strategy; a rotation refused after its retries is requested again, as a caller
 * would. Row D puts the starter in the loop (start-propagation.ts with StepFunctionsStarter, its
 * StartExecution through the proxy to moto; a start that gets through runs the local execution).
 * Each row ends with the fault removed, the reconcile run until nothing is left to do, and the
 * oracle (test/support/fault-matrix.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import type { LocalExecution } from '../../harness/local-workflow';
import { LOCAL_AWS } from '../../harness/moto-server';
import { TEST_CALLER_AGENT } from '../../scripts/faults/fault-proxy';
import { AWS_CLIENT_OPTIONS } from '../../shared/aws/client-options';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { StepFunctionsStarter } from '../../shared/aws/step-functions-starter';
import type { RotationLogger } from '../../shared/observability';
import { type ExecutionStarter, startPropagation } from '../../shared/workflow/start-propagation';
import { faultHarness } from '../support/fault-harness';
import { expectOracle, faultRow, type RowSecret, scaled } from '../support/fault-matrix';

// The step bundle's AWS calls go through the harness's fault proxy; the rows set its rules.
const wf = faultHarness({ restartConcurrency: 2 });
const faultProxy = () => wf.awsCalls.proxy();
const endpoint = () => faultProxy().endpoint;

/** PutSecretValue through the proxy (SDK standard retries), requested again while refused. */
async function putThroughProxy(secretId: string, refused: { count: number }): Promise<string> {
  const client = new SecretsManagerClient({
    endpoint: endpoint(),
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
    // The caller's puts, not the product's: left out of the row's AWS call count (oracle 7).
    customUserAgent: TEST_CALLER_AGENT,
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

describe('fault matrix, AWS status codes (fault proxy)', () => {
  it('D: StartExecution outage (throttling and 503 at 100 %): the reconcile starts what was lost', async () => {
    const row = faultRow(wf, 'D', 'StartExecution throttled/503 at 100 % (starter in the loop)');
    const secrets: RowSecret[] = [];
    for (const name of ['one', 'two', 'three', 'four', 'five']) secrets.push(await row.secret(name));
    const starter = await proxiedStarter(row);
    try {
      // The outage: every StartExecution refused. Each rotation's event is delivered and dropped.
      faultProxy().setRules([
        { target: /^AWSStepFunctions\.StartExecution$/, rate: 0.5, fault: 'throttle' },
        { target: /^AWSStepFunctions\.StartExecution$/, rate: 1, fault: '503' },
      ]);
      let dropped = 0;
      for (const s of secrets) {
        const versionId = await row.rotate(s);
        if (!(await starter.deliver({ secretId: s.secretId, versionId }))) dropped++;
      }
      expect(row.executions).toHaveLength(0);
      // Over: the sweep's reconcile finds the versions the clusters have not seen and starts them.
      faultProxy().setRules([]);
      const passes = await row.quiesce({
        start: (s, versionId) => starter.deliver({ secretId: s.secretId, versionId, trigger: 'reconcile' }),
      });
      // And the next rotations start as usual.
      for (const s of secrets) {
        const versionId = await row.rotate(s);
        expect(await starter.deliver({ secretId: s.secretId, versionId })).toBe(true);
      }
      await row.quiesce();
      row.note(
        `${dropped} of ${secrets.length} events dropped after 3 deliveries (${starter.refused()} refused starts); ` +
          `started by the reconcile in ${passes} pass(es); the lost start's alarm (starter on-failure destination) is AWS-only`,
      );
      expectOracle(await row.oracle());
      expect(dropped).toBe(secrets.length);
    } finally {
      faultProxy().setRules([]);
      starter.destroy();
    }
  });

  it('A: Secrets Manager throttling, 30 % of every call plus a 5 s burst at 100 %', async () => {
    const row = faultRow(wf, 'A', 'SM ThrottlingException 30 % + 5 s at 100 %');
    const secrets: RowSecret[] = [await row.secret('one'), await row.secret('two')];
    const refused = { count: 0 };
    const before = faultProxy().log.length;
    const rate30 = [{ target: /^secretsmanager\./, rate: 0.3, fault: 'throttle' as const }];
    faultProxy().setRules(rate30);
    for (let round = 0; round < scaled(10); round++) {
      for (const s of secrets) {
        if (round === 2 && s === secrets[0]) {
          // The burst: every Secrets Manager call refused for 5 s, from the rotation's put on.
          faultProxy().setRules([{ target: /^secretsmanager\./, rate: 1, fault: 'throttle' }]);
          setTimeout(() => faultProxy().setRules(rate30), 5_000);
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
    faultProxy().setRules([]);
    await row.quiesce();
    // This row's requests only: the proxy's log also holds the file's other rows.
    const faults: Record<string, number> = {};
    for (const e of faultProxy().log.slice(before))
      if (e.fault) faults[e.target] = (faults[e.target] ?? 0) + 1;
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
    const before = faultProxy().log.length;
    faultProxy().setRules([
      { target: /^DynamoDB_20120810\.(PutItem|UpdateItem)$/, rate: 0.1, fault: 'throttle' },
      { target: /^DynamoDB_20120810\.(PutItem|UpdateItem)$/, rate: 0.1 / 0.9, fault: '500' },
    ]);
    for (let round = 0; round < scaled(15); round++) {
      for (const s of secrets) {
        const versionId = await row.rotate(s);
        await row.run(s, versionId);
      }
    }
    faultProxy().setRules([]);
    await row.quiesce();
    const injected = faultProxy()
      .log.slice(before)
      .filter((e) => e.fault).length;
    row.note(`${injected} ledger writes failed`);
    const result = await row.oracle();
    expectOracle(result);
  });
});

/** The starter as deployed (start-propagation.ts, StepFunctionsStarter), its AWS calls through the proxy. */
async function proxiedStarter(row: ReturnType<typeof faultRow>) {
  const clientConfig = {
    ...AWS_CLIENT_OPTIONS,
    endpoint: endpoint(),
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
  };
  const sfn = new SFNClient(clientConfig);
  // moto records the StartExecution; the local interpreter runs it (a start that got through).
  const machine = await new SFNClient({ ...clientConfig, endpoint: inject('motoEndpoint') }).send(
    new CreateStateMachineCommand({
      name: `propagation-${row.row}-${Date.now()}`,
      definition: JSON.stringify({ StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } }),
      roleArn: 'arn:aws:iam::123456789012:role/propagation-workflow',
    }),
  );
  const sfnStarter = new StepFunctionsStarter(sfn, machine.stateMachineArn as string);
  const started = new Map<string, Promise<LocalExecution>>();
  const starter: ExecutionStarter = {
    async start(name, input) {
      const out = await sfnStarter.start(name, input);
      const s = row.secrets.find((x) => input.secretId.includes(x.secretId));
      if (!out.alreadyStarted && s) started.set(name, row.run(s, input.versionId, input));
      return out;
    },
  };
  const silent = { info() {}, warn() {}, error() {}, appendKeys() {} } as unknown as RotationLogger;
  const deps = {
    managedPrefixes: [wf.prefix],
    secrets: new SecretsManagerAdapter(new SecretsManagerClient(clientConfig)),
    ledger: wf.ledger,
    starter,
    logger: silent,
    metrics: { addDimension() {}, addMetric() {} },
    now: () => new Date(),
  };
  let refused = 0;
  /** One event, delivered as EventBridge → Lambda (async) would: 3 tries, then dropped. */
  async function deliver(event: { secretId: string; versionId?: string; trigger?: 'event' | 'reconcile' }) {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const result = await startPropagation(event, deps);
        if (result.ignored === undefined) await started.get(result.executionName);
        return true;
      } catch {
        refused++;
        await sleep(500);
      }
    }
    return false;
  }
  return { deliver, refused: () => refused, destroy: () => sfn.destroy() };
}
