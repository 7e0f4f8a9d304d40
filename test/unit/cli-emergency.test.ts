import { describe, expect, it } from 'vitest';
import type { AfterRequested } from '../../cli/after-requested';
import { createCliContext } from '../../cli/cli-context';
import { runEmergency } from '../../cli/emergency-command';
import type { PropagationRecord } from '../../shared/ledger/ledger-port';
import type { RotationRequestResult } from '../../shared/requests/request-rotation';
import { captureIo, FakeLedger, fakeSecretsManager, fakeServices } from '../support/cli-harness';

const NAME = 'p/app/db';
const ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${NAME}-AbCdEf`;
const OLD = '00000000-0000-0000-0000-000000000000';
const NEW = '11111111-1111-1111-1111-111111111111';
const STUCK = '99999999-9999-9999-9999-999999999999';

/**
 * One emergency run over fakes. Secrets Manager reports the new version as AWSPENDING until the
 * afterRequested hook "finishes" the rotation; the hook also records the propagation outcome.
 */
async function emergency(options: {
  hook?: (state: { stages: Record<string, string[]>; ledger: FakeLedger }) => void;
  timeoutMs?: number;
  secretId?: string;
}) {
  const out = captureIo();
  const ledger = new FakeLedger();
  const stages: Record<string, string[]> = { [OLD]: ['AWSCURRENT'], [NEW]: ['AWSPENDING'] };
  const sm = fakeSecretsManager((name) => {
    if (name !== 'DescribeSecret') throw new Error(`unexpected ${name}`);
    return { ARN, Name: NAME, VersionIdsToStages: structuredClone(stages) };
  });
  const fakes = fakeServices({ secretsManager: sm.client, ledger });
  const ctx = createCliContext({
    options: { prefix: ['p/app/'], json: false, verbose: false },
    env: {},
    services: fakes.services,
    io: out.io,
  });
  const requests: unknown[] = [];
  const hookCalls: string[] = [];
  const afterRequested: AfterRequested = async (rotation, onProgress) => {
    hookCalls.push(`${rotation.versionId} by ${rotation.actor}`);
    onProgress({ stage: 'rotation', message: 'driving the rotation locally' });
    options.hook?.({ stages, ledger });
  };
  const code = await runEmergency(
    ctx,
    options.secretId ?? NAME,
    { reason: 'leaked in a log', retirePrevious: true, timeoutMs: options.timeoutMs ?? 2000 },
    {
      requestRotation: async (input): Promise<RotationRequestResult> => {
        requests.push(input);
        return { secretName: NAME, secretArn: ARN, versionId: NEW, repairedPendingVersionId: STUCK };
      },
      afterRequested,
      pollMs: 5,
    },
  );
  return { code, ...out, requests, hookCalls, stsCalls: fakes.stsCalls, smCalls: sm.calls };
}

const propagation = (status: PropagationRecord['status']): PropagationRecord => ({
  secretName: NAME,
  secretArn: ARN,
  versionId: NEW,
  trigger: 'emergency',
  actor: 'arn:aws:iam::123456789012:user/alice',
  executionId: 'exec-1',
  startedAt: new Date().toISOString(),
  status,
  durationMs: 4200,
  clusters: [
    {
      cluster: 'a',
      outcome: 'succeeded',
      synced: ['shop/db'],
      restarted: ['Deployment/api', 'StatefulSet/worker'],
      failed: [],
    },
  ],
  error: status === 'failed' ? 'RolloutFailed: StatefulSet/worker' : undefined,
});

const finish =
  (status: PropagationRecord['status']) =>
  ({ stages, ledger }: { stages: Record<string, string[]>; ledger: FakeLedger }) => {
    stages[NEW] = ['AWSCURRENT'];
    stages[OLD] = ['AWSPREVIOUS'];
    ledger.putPropagation(propagation(status));
  };

describe('rotator emergency', () => {
  it('requests an emergency rotation as the STS caller, runs the afterRequested hook, and reports success (exit 0)', async () => {
    const r = await emergency({ hook: finish('succeeded') });
    expect(r.code).toBe(0);
    expect(r.requests).toEqual([
      {
        secretId: NAME,
        reason: 'leaked in a log',
        actor: 'arn:aws:iam::123456789012:user/alice',
        trigger: 'emergency',
        emergency: true,
        retirePrevious: true,
      },
    ]);
    expect(r.hookCalls).toEqual([`${NEW} by arn:aws:iam::123456789012:user/alice`]);
    expect(r.stdout()).toContain(`Emergency rotation of ${NAME}`);
    expect(r.stdout()).toContain(`new version:   ${NEW}`);
    expect(r.stdout()).toContain(`repaired:      ${STUCK} (unfinished rotation removed)`);
    expect(r.stdout()).toContain('reason:        leaked in a log');
    expect(r.stdout()).toMatch(
      /propagation: {3}succeeded in 4\.2 s: 1 cluster\(s\), 2 workload\(s\) restarted/,
    );
    expect(r.stdout()).toMatch(/Outcome: succeeded\n$/);
    expect(r.stderr()).toContain('rotation: driving the rotation locally');
  });

  it('reports a failed propagation with its error (exit 1)', async () => {
    const r = await emergency({ hook: finish('failed') });
    expect(r.code).toBe(1);
    expect(r.stdout()).toMatch(/propagation: {3}failed in 4\.2 s: .*: RolloutFailed: StatefulSet\/worker/);
    expect(r.stdout()).toMatch(/Outcome: failed\n$/);
  });

  it('times out while the rotation is still pending, without waiting for a propagation (exit 1)', async () => {
    const r = await emergency({ timeoutMs: 60 });
    expect(r.code).toBe(1);
    expect(r.stdout()).toMatch(
      /rotation: {6}timed-out after .*: version 1{8}-.* did not become AWSCURRENT in time/,
    );
    expect(r.stdout()).toMatch(/propagation: {3}not started/);
    expect(r.stderr()).toMatch(/rotation: version 11111111 is AWSPENDING; waiting for the rotation function/);
  });

  it('fails when the new version disappears (rotation cancelled or replaced)', async () => {
    const r = await emergency({
      // Seen as AWSPENDING first, then gone.
      hook: ({ stages }) => {
        setTimeout(() => delete stages[NEW], 20);
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout()).toMatch(/rotation: {6}failed after .*no longer staged/);
  });

  it('times out waiting for a propagation that never starts, and says so', async () => {
    const r = await emergency({
      timeoutMs: 100,
      hook: ({ stages }) => {
        stages[NEW] = ['AWSCURRENT'];
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout()).toMatch(/rotation: {6}succeeded/);
    expect(r.stdout()).toMatch(/propagation: {3}timed-out: no propagation of 1{8}-.* was recorded/);
  });

  it('refuses an unmanaged secret before asking STS or requesting anything', async () => {
    await expect(emergency({ secretId: 'other/db' })).rejects.toThrow(/outside the managed prefixes/);
  });
});
