import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { InvalidEventError, RotationStateError, SecretNotManagedError } from '../../shared/errors';
import { kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import {
  type PropagationDeps,
  propagateSecretVersion,
} from '../../shared/propagation/propagate-secret-version';
import type { PropagationConfig } from '../../shared/propagation/propagation-config';
import { clusterFixture } from '../support/cluster-fixture';
import { captureOutput, findLeakedValues, type OutputCapture } from '../support/output-capture';

const fx = clusterFixture();
const PREFIX = `propagate-${randomUUID().slice(0, 6)}/`;
const SECRET = `${PREFIX}db`;
const VALUES = [`first-${randomUUID()}`, `second-${randomUUID()}`];
const config: PropagationConfig = {
  managedPrefixes: [PREFIX],
  clusters: ['local'],
  restartConcurrency: 2,
  requireOptIn: false,
  syncTimeoutMs: 30_000,
  rolloutTimeoutMs: 60_000,
};
let connections = 0;
let awsCalls: string[] = [];
let output: OutputCapture;
let namespace: string;

function deps(): PropagationDeps {
  fx.aws.secretsManager.middlewareStack.remove('record');
  fx.aws.secretsManager.middlewareStack.add(
    (next, context) => async (args) => {
      awsCalls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'record' },
  );
  const endpoint = {
    name: 'local',
    server: inject('clusterServer'),
    certificateAuthority: readFileSync(inject('clusterCaFile')).toString('base64'),
  };
  return {
    config,
    secrets: new SecretsManagerAdapter(fx.aws.secretsManager),
    clusterFor: async () => {
      connections += 1;
      return new KubernetesAdapter(kubeConfigWithToken(endpoint, inject('clusterBearerToken')));
    },
    logger: createLogger(),
    metrics: createMetrics(),
  };
}

beforeAll(async () => {
  output = captureOutput();
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ password: VALUES[0] }) }),
  );
  namespace = await fx.namespaceWithStore('propagate');
  await fx.externalSecret(namespace, 'db', SECRET);
  await fx.externalSecretReady(namespace, 'db');
  await fx.workload('Deployment', namespace, 'api', {
    containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }],
  });
  await fx.rolledOut([{ kind: 'Deployment', namespace, name: 'api' }]);
});
afterAll(() => output.stop());

describe('propagateSecretVersion (the propagation function’s logic) through the bearer-token path', () => {
  it('carries the new AWSCURRENT version to the consumers', async () => {
    await fx.aws.secretsManager.send(
      new PutSecretValueCommand({ SecretId: SECRET, SecretString: JSON.stringify({ password: VALUES[1] }) }),
    );

    const result = await propagateSecretVersion({ secretId: SECRET }, deps());

    expect(result.outcome).toBe('succeeded');
    expect(result.clusters.local?.restarted).toEqual([{ kind: 'Deployment', namespace, name: 'api' }]);
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(VALUES[1]);
  });

  it.each([
    ['a malformed event', { secret: SECRET }, InvalidEventError],
    ['an unknown cluster', { secretId: SECRET, clusters: ['prod-eu'] }, InvalidEventError],
    ['a secret outside the managed prefixes', { secretId: 'other/db' }, SecretNotManagedError],
  ])('refuses %s before any AWS or cluster call', async (_name, event, error) => {
    awsCalls = [];
    connections = 0;
    await expect(propagateSecretVersion(event, deps())).rejects.toBeInstanceOf(error);
    expect(awsCalls).toEqual([]);
    expect(connections).toBe(0);
  });

  it('refuses a version that is no longer AWSCURRENT, touching no cluster', async () => {
    connections = 0;
    const stale = '00000000-0000-4000-8000-000000000000';
    await expect(
      propagateSecretVersion({ secretId: SECRET, versionId: stale }, deps()),
    ).rejects.toBeInstanceOf(RotationStateError);
    expect(connections).toBe(0);
  });

  it('printed a summary per cluster and no secret value', () => {
    const text = output.text();
    expect(text).toContain('"message":"propagated to cluster"');
    expect(findLeakedValues(text, VALUES)).toEqual([]);
  });
});
