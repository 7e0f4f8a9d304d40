import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { BundledFunction } from '../../harness/bundled-function';
import { localAwsEnvironment, localClients } from '../../harness/local-aws';
import { synthLocalStack } from '../../harness/local-stack';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  snapshotSecret,
  startRotation,
} from '../../harness/rotation-fixture';
import { findLeakedValues } from '../support/output-capture';
import { BASE_PROPS, TEST_ENV } from '../support/synth-stack';

const RUNNER = new URL('./support/invoke-bundle.mjs', import.meta.url).pathname;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
let rotateSecret: BundledFunction;
let propagateSecret: BundledFunction;
let sweep: BundledFunction;
let propagationStep: BundledFunction;

beforeAll(() => {
  const local = synthLocalStack({
    managedPrefixes: [...BASE_PROPS.managedPrefixes],
    propagation: { clusterNames: ['local'] },
  });
  const found = (fn: BundledFunction | undefined) => {
    if (!fn) throw new Error('a function is missing from the cloud assembly');
    return fn;
  };
  rotateSecret = found(local.bundles.rotate);
  sweep = found(local.bundles.sweep);
  // Values CloudFormation would resolve: placeholders, since these tests stop before using them.
  const deployed = {
    ROTATOR_LEDGER_TABLE: 'ledger',
    ROTATOR_STATE_MACHINE_ARN: `arn:aws:states:us-east-1:${TEST_ENV.account}:stateMachine:local`,
  };
  const starter = found(local.bundles.starter);
  propagateSecret = { ...starter, environment: { ...starter.environment, ...deployed } };
  const step = found(local.bundles.step);
  propagationStep = { ...step, environment: { ...step.environment, ...deployed } };
});

/** Runs the bundle in a separate Node process with only the function's and local AWS's environment. */
async function invokeBundle(events: object[], bundle: BundledFunction = rotateSecret) {
  const work = mkdtempSync(join(tmpdir(), 'bundle-'));
  writeFileSync(join(work, 'events.json'), JSON.stringify(events));
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [RUNNER, bundle.directory, join(work, 'events.json'), join(work, 'results.json')],
    {
      env: {
        PATH: process.env.PATH,
        ...bundle.environment,
        ...localAwsEnvironment(inject('motoEndpoint')),
      },
      timeout: 60_000,
    },
  );
  const results = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8'));
  return { results, output: `${stdout}\n${stderr}` };
}

describe('the bundled rotation function from the cloud assembly', () => {
  it('is a single ESM file under 2 MB with its source map', () => {
    expect(rotateSecret.handler).toBe('index.handler');
    const size = statSync(join(rotateSecret.directory, 'index.mjs')).size;
    expect(size).toBeGreaterThan(10_000);
    expect(size).toBeLessThan(2_000_000);
    expect(statSync(join(rotateSecret.directory, 'index.mjs.map')).size).toBeGreaterThan(0);
  });

  it('rotates a secret through all four steps in a separate Node 24 process, printing no value', async () => {
    // Prepare
    const clients = localClients(inject('motoEndpoint'));
    const prefix = rotateSecret.environment.ROTATOR_MANAGED_PREFIXES?.split(',')[0] ?? '';
    const initial = JSON.stringify({ username: 'e2e', password: `initial-e2e-${randomUUID()}` });
    const arn = await createSecret(clients, `${prefix}e2e-${randomUUID().slice(0, 8)}`, initial, {
      'rotator:fields': 'password',
    });
    const token = await startRotation(clients, arn, await ensurePlaceholderRotationFunction(clients));

    // Act
    const { results, output } = await invokeBundle(
      STEPS.map((Step) => ({ Step, SecretId: arn, ClientRequestToken: token })),
    );

    // Assess
    expect(results.importError).toBeUndefined();
    expect(results.node).toMatch(/^v24\./);
    expect(results.invocations.map((i: { result?: { outcome: string } }) => i.result?.outcome)).toEqual([
      'pending-created',
      'target-updated',
      'tested',
      'current-moved',
    ]);
    const snapshot = await snapshotSecret(clients, arn);
    expect(snapshot.stages[token]).toContain('AWSCURRENT');
    const rotated = (await readVersion(clients, arn, token, 'AWSCURRENT')) ?? '';
    const newPassword = JSON.parse(rotated).password;
    expect(newPassword).not.toBe(JSON.parse(initial).password);
    expect(output).toContain('"message":"rotation step done"');
    expect(output).toContain('"StepDuration"');
    expect(findLeakedValues(output, [initial, JSON.parse(initial).password, rotated, newPassword])).toEqual(
      [],
    );
  });

  it('refuses a secret outside its managed prefixes with a typed error', async () => {
    const { results } = await invokeBundle([
      { Step: 'createSecret', SecretId: 'unmanaged/secret', ClientRequestToken: randomUUID() },
    ]);
    expect(results.invocations[0]).toMatchObject({ ok: false, name: 'SecretNotManagedError' });
  });
});

describe('the bundled propagation functions from the cloud assembly', () => {
  it('the starter loads as one ESM file and refuses bad input with typed errors before any call', async () => {
    const { results } = await invokeBundle(
      [
        { secret: 'no-id' },
        { secretId: 'unmanaged/db' },
        { secretId: 'prod/app-team/db', versionId: 'short' },
      ],
      propagateSecret,
    );
    expect(results.importError).toBeUndefined();
    expect(results.invocations.map((i: { name?: string }) => i.name)).toEqual([
      'InvalidEventError',
      'SecretNotManagedError',
      'InvalidEventError',
    ]);
  });

  it('the step function imports as one ESM file, refuses malformed steps, and loads its cluster clients when a step reaches a cluster', async () => {
    const secret = {
      name: 'prod/app-team/db',
      arn: `arn:aws:secretsmanager:us-east-1:${TEST_ENV.account}:secret:prod/app-team/db-AbCdEf`,
      tags: {},
    };
    const { results } = await invokeBundle(
      [
        { action: 'launch' },
        {
          action: 'claim',
          input: { secretId: 'unmanaged/db', versionId: 'a'.repeat(36), trigger: 'event', actor: 't' },
          executionId: 'e',
        },
        { action: 'restart', cluster: 'local' },
        // moto knows no EKS cluster "local": the step loads the EKS and Kubernetes clients lazily and
        // fails on DescribeCluster with a typed error, not on a missing module.
        { action: 'plan', cluster: 'local', secret, versionId: 'b'.repeat(36), moveSeq: 1 },
      ],
      propagationStep,
    );
    expect(results.importError).toBeUndefined();
    expect(results.invocations.map((i: { name?: string }) => i.name)).toEqual([
      'InvalidEventError',
      'SecretNotManagedError',
      'InvalidEventError',
      'AwsCallError',
    ]);
    expect(results.invocations[3].message).toMatch(/DescribeCluster/);
  });
});

describe('the bundled sweep function from the cloud assembly', () => {
  it('lists the managed secrets in a separate Node 24 process and reports on them', async () => {
    const clients = localClients(inject('motoEndpoint'));
    const prefix = sweep.environment.ROTATOR_MANAGED_PREFIXES?.split(',')[0] ?? '';
    await createSecret(
      clients,
      `${prefix}sweep-e2e-${randomUUID().slice(0, 8)}`,
      `sweep-value-${randomUUID()}`,
    );

    const { results, output } = await invokeBundle([{}], sweep);

    expect(results.importError).toBeUndefined();
    expect(results.invocations[0]).toMatchObject({ ok: true });
    expect(results.invocations[0].result.listed).toBeGreaterThan(0);
    expect(output).toContain('"message":"sweep done"');
    expect(output).toContain('"SecretAgeDays"');
  });
});
