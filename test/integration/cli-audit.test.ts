import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createSecret } from '../../harness/rotation-fixture';
import { type CliRun, runRotator } from '../support/cli-process';
import { findLeakedValues } from '../support/output-capture';

// `rotator audit` before any cluster is read, against moto: what it says about "since when" without
// a ledger move, and the exit code when the secret cannot be audited at all (1, not 2 = lags).

const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
const run = randomUUID().slice(0, 6);
const PREFIX = `audit-${run}/`;
const VALUES = new Set<string>();
const OUTPUT: string[] = [];
/** A cluster nobody listens on: the audit reaches it only after judging the secret. */
const KUBECONFIG = join(tmpdir(), `audit-${run}.kubeconfig`);

async function audit(name: string, json: boolean): Promise<CliRun> {
  const result = await runRotator(
    ['audit', name, '--prefix', PREFIX, '--kubeconfig', KUBECONFIG, ...(json ? ['--output', 'json'] : [])],
    { endpoint },
  );
  OUTPUT.push(result.stdout, result.stderr);
  return result;
}

beforeAll(() => {
  writeFileSync(
    KUBECONFIG,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: not-a-token}}]',
      'contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]',
      'current-context: nowhere',
    ].join('\n'),
  );
});

afterAll(() => {
  rmSync(KUBECONFIG, { force: true });
  expect(findLeakedValues(OUTPUT.join('\n'), VALUES)).toEqual([]);
});

describe('rotator audit before the clusters (moto, no ledger)', () => {
  it('says "since" is approximate without a ledger move (a version is created before it is promoted)', async () => {
    const name = `${PREFIX}no-ledger`;
    const value = `v-${randomUUID()}`;
    VALUES.add(value);
    await createSecret(clients, name, value);
    const json = await audit(name, true);
    const report = JSON.parse(json.stdout) as {
      movedAtSource: string;
      approximate: boolean;
      converged: boolean;
    };
    expect(report).toMatchObject({ movedAtSource: 'version-created', approximate: true, converged: false });
    const text = await audit(name, false);
    expect(text.stdout).toMatch(/approximate: no ledger record of the move/);
    expect(text.code).toBe(1); // the cluster could not be reached
  });

  it('exits 1 (could not be audited), not 2 (lags), when the secret has no AWSCURRENT version', async () => {
    const name = `${PREFIX}no-current`;
    const value = `v-${randomUUID()}`;
    VALUES.add(value);
    await createSecret(clients, name, value);
    const sm = clients.secretsManager;
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) =>
      s.includes('AWSCURRENT'),
    )?.[0];
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        RemoveFromVersionId: current,
      }),
    );
    const after = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(Object.values(after.VersionIdsToStages ?? {}).flat()).not.toContain('AWSCURRENT');
    const r = await audit(name, false);
    expect(r.stderr).toContain('has no AWSCURRENT version');
    expect(r.code).toBe(1);
  });
});
