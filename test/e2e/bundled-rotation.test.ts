import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterPropagation } from '../../infra/lib/cluster-propagation';
import { RotationSweep } from '../../infra/lib/rotation-sweep';
import { SecretRotationOrchestrator } from '../../infra/lib/secret-rotation-orchestrator';
import { localAwsEnvironment, localClients } from '../../scripts/local/local-aws';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  snapshotSecret,
  startRotation,
} from '../../scripts/local/rotation-fixture';
import { type BundledFunction, bundledFunctions } from '../support/bundled-function';
import { findLeakedValues } from '../support/output-capture';
import { BASE_PROPS, TEST_ENV } from '../support/synth-stack';

const RUNNER = new URL('./support/invoke-bundle.mjs', import.meta.url).pathname;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
let rotateSecret: BundledFunction;
let propagateSecret: BundledFunction;
let sweep: BundledFunction;

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'Bundles', { env: TEST_ENV });
  const orchestrator = new SecretRotationOrchestrator(stack, 'Orchestrator', BASE_PROPS);
  new RotationSweep(stack, 'Sweep', {
    managedPrefixes: BASE_PROPS.managedPrefixes,
    rotationFunction: orchestrator.rotationFunction,
  });
  new ClusterPropagation(stack, 'Propagation', {
    managedPrefixes: BASE_PROPS.managedPrefixes,
    clusterNames: ['local'],
  });
  const functions = bundledFunctions(app, stack.stackName);
  expect(functions).toHaveLength(3);
  sweep = functions.find((f) => f.environment.ROTATOR_MAX_ROTATIONS_PER_RUN !== undefined) as BundledFunction;
  rotateSecret = functions.find(
    (f) => f.environment.ROTATOR_CLUSTERS === undefined && f !== sweep,
  ) as BundledFunction;
  propagateSecret = functions.find((f) => f.environment.ROTATOR_CLUSTERS !== undefined) as BundledFunction;
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

describe('the bundled propagation function from the cloud assembly', () => {
  it('loads @kubernetes/client-node and the AWS SDK as one ESM file and refuses bad input with typed errors', async () => {
    const { results } = await invokeBundle(
      [
        { secret: 'no-id' },
        { secretId: 'unmanaged/db' },
        { secretId: 'prod/app-team/db', clusters: ['other'] },
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
