import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { inject } from 'vitest';
import { type LocalClients, localClients } from '../../harness/local-aws';
import {
  ensurePlaceholderRotationFunction,
  readVersion,
  snapshotSecret,
  startRotation,
} from '../../harness/rotation-fixture';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import type { RotationConfig } from '../../shared/config';
import { logFailureOnce } from '../../shared/log-failure-once';
import { createLogger, createMetrics } from '../../shared/observability';
import { generatedStrategies } from '../../shared/rotation/default-strategies';
import { type RotationDeps, rotateSecretStep } from '../../shared/rotation/rotate-secret-step';
import { ROTATION_STEPS } from '../../shared/rotation/rotation-event';

/** Counts the Secrets Manager operations sent through a client, by name. */
export function countOperations(clients: LocalClients): { readonly calls: string[] } {
  const recorder = { calls: [] as string[] };
  clients.secretsManager.middlewareStack.add(
    (next, context) => async (args) => {
      recorder.calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countOperations' },
  );
  return recorder;
}

/**
 * Everything an integration test needs to run the real rotation against moto: a unique managed
 * prefix, real adapters and Powertools logger/metrics, and a registry of every secret value the
 * test has seen, for the leak check.
 */
export function rotationHarness(configOverrides: Partial<RotationConfig> = {}) {
  const clients = localClients(inject('motoEndpoint'));
  const prefix = `it-${randomUUID().slice(0, 8)}/`;
  const config: RotationConfig = { managedPrefixes: [prefix], defaultPasswordPolicy: {}, ...configOverrides };
  const secrets = new SecretsManagerAdapter(clients.secretsManager);
  const metrics = createMetrics();
  const logger = createLogger();
  const deps: RotationDeps = {
    config,
    secrets,
    strategies: generatedStrategies(secrets, config),
    logger,
    metrics,
  };
  // The rotation function's failure logging, as functions/rotate-secret/handler.ts wires it.
  const handler = middy()
    .use(logFailureOnce(logger, 'rotation step failed'))
    .handler((event: unknown) => rotateSecretStep(event, deps));
  const seenValues = new Set<string>();
  let placeholderArn: string | undefined;

  return {
    clients,
    prefix,
    deps,
    seenValues,
    name: (suffix: string) => `${prefix}${suffix}-${randomUUID().slice(0, 6)}`,
    async placeholder() {
      placeholderArn ??= await ensurePlaceholderRotationFunction(clients);
      return placeholderArn;
    },
    async begin(secretId: string, rotateImmediately = true) {
      return startRotation(clients, secretId, await this.placeholder(), rotateImmediately);
    },
    /** One invocation; metrics are flushed after it, as the handler's logMetrics middleware does. */
    async step(
      Step: string,
      SecretId: string,
      ClientRequestToken: string,
      extra: Record<string, unknown> = {},
    ) {
      try {
        return await handler({ Step, SecretId, ClientRequestToken, ...extra }, {} as Context);
      } finally {
        metrics.publishStoredMetrics();
      }
    },
    async rotate(secretId: string) {
      const token = await this.begin(secretId);
      const outcomes = [];
      for (const step of ROTATION_STEPS) outcomes.push((await this.step(step, secretId, token)).outcome);
      return { token, outcomes };
    },
    /** Takes a snapshot and remembers every value in it for the leak check. */
    async snapshot(secretId: string) {
      const snap = await snapshotSecret(clients, secretId);
      for (const value of Object.values(snap.values)) remember(seenValues, value);
      return snap;
    },
    async current(secretId: string) {
      const value = await readVersion(clients, secretId, undefined, 'AWSCURRENT');
      remember(seenValues, value);
      return value;
    },
  };
}

/** Adds a value, and each string field of a JSON object value, to the leak-check registry. */
function remember(registry: Set<string>, value: string | undefined): void {
  if (value === undefined) return;
  registry.add(value);
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed && typeof parsed === 'object') {
      for (const field of Object.values(parsed)) if (typeof field === 'string') registry.add(field);
    }
  } catch {
    // a plain string secret
  }
}
