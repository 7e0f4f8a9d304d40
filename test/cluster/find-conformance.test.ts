/**
 * Conformance of the planner's `dataFrom[].find` with the real ESO controller (v0.20.4, AWS
 * provider, reading moto): for every find form, the secrets ESO put into the ExternalSecret's
 * Secret (each secret's value is its own name) — or ESO's sync failure — against what the plan
 * for a rotation of each secret says about that ExternalSecret.
 */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsSecretStore } from '../../harness/eso-manifests';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import { clusterFixture } from '../support/cluster-fixture';

const fx = clusterFixture();
const custom = fx.admin.makeApiClient(CustomObjectsApi);
// Letters only, so every name is a long run of [a-z/-]: the review's catastrophic pattern is
// catastrophic for a backtracking engine on each of them.
const run = randomUUID()
  .slice(0, 6)
  .replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)] ?? 'g');
const R = `find-${run}`;
const TEAM = `${run}-team`;
const TIER = `${run}-tier`;
const SECRETS = {
  appDb: { name: `${R}/app/db`, tags: { [TEAM]: 'app-team', [TIER]: 'db' } },
  appCache: { name: `${R}/app/cache`, tags: { [TEAM]: 'app', [TIER]: 'cache' } },
  otherDb: { name: `${R}/other/db`, tags: { [`${run}-owner`]: 'app-team' } },
  upper: { name: `${R}/Upper/Key`, tags: {} },
  long: { name: `${R}/long/abcdefghijklmnopqrstuvwxyz-abcdefghijklm`, tags: {} },
  prefixed: { name: `px-${run}/${R}/app/db`, tags: {} },
} as const;
type SecretId = keyof typeof SECRETS;
type Expected = readonly string[] | 'sync-fails';

/** One ExternalSecret per row: its dataFrom find (or spec), the store, and what ESO reads. */
const CASES: readonly [string, Record<string, unknown>, readonly SecretId[] | 'sync-fails', string?][] = [
  ['name-plain', { find: { name: { regexp: `^${R}/app/` } } }, ['appDb', 'appCache']],
  ['name-icase', { find: { name: { regexp: `(?i)^${R.toUpperCase()}/APP/` } } }, ['appDb', 'appCache']],
  ['name-end-of-text', { find: { name: { regexp: `^${R}/app/db\\z` } } }, ['appDb']],
  ['name-posix', { find: { name: { regexp: `^${R}/[[:alpha:]]+/db$` } } }, ['appDb', 'otherDb']],
  ['name-go-group', { find: { name: { regexp: `^${R}/app/(?P<kind>cache)$` } } }, ['appCache']],
  ['name-catastrophic', { find: { name: { regexp: '^(([a-z]|[a-z/-])+)+!$' } } }, []],
  ['name-lookahead', { find: { name: { regexp: `^${R}/(?=app)` } } }, 'sync-fails'],
  ['name-unclosed', { find: { name: { regexp: `^${R}/(` } } }, 'sync-fails'],
  ['name-repeat-1001', { find: { name: { regexp: `^${R}/a{1001}` } } }, 'sync-fails'],
  ['name-path', { find: { path: `${R}/app/`, name: { regexp: 'db$' } } }, ['appDb']],
  ['name-empty-path', { find: { path: `${R}/other/`, name: {} } }, ['otherDb']],
  ['name-path-case', { find: { path: `${R}/Upper/`, name: { regexp: 'Key' } } }, ['upper']],
  ['name-path-other-case', { find: { path: `${R}/upper/`, name: { regexp: 'Key' } } }, []],
  [
    'name-ignores-tags',
    { find: { name: { regexp: `^${R}/other/` }, tags: { [TEAM]: 'none' } } },
    ['otherDb'],
  ],
  ['tags-value-prefix', { find: { tags: { [TEAM]: 'app' } } }, ['appDb', 'appCache']],
  ['tags-key-prefix', { find: { tags: { [`${run}-te`]: 'app' } } }, ['appDb', 'appCache']],
  ['tags-independent', { find: { tags: { [TIER]: 'app-team' } } }, ['appDb']],
  ['tags-case', { find: { tags: { [TEAM]: 'App' } } }, []],
  ['tags-two', { find: { tags: { [TEAM]: 'app', [TIER]: 'ca' } } }, ['appCache']],
  ['tags-path', { find: { tags: { [TEAM]: 'app' }, path: `${R}/app/c` } }, ['appCache']],
  ['tags-negated-path', { find: { tags: { [TEAM]: 'app' }, path: `!${R}/app/c` } }, ['appDb']],
  ['path-only', { find: { path: `${R}/app/` } }, 'sync-fails'],
  ['empty-find', { find: {} }, 'sync-fails'],
  ['prefix-name', { find: { name: { regexp: `^${R}/app/db$` } } }, ['prefixed'], 'prefixed'],
  ['prefix-tags', { find: { tags: { [TEAM]: 'app-' } } }, ['appDb'], 'prefixed'],
];
/** A find that fails the sync fails the ExternalSecret, though its data entry resolves. */
const DATA_AND_PATH_ONLY = 'data-and-path-only';

let namespace: string;

beforeAll(async () => {
  for (const { name, tags } of Object.values(SECRETS)) {
    await fx.aws.secretsManager.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: name,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  namespace = await fx.namespaceWithStore('find');
  const plain = awsSecretStore(namespace, 'prefixed');
  const prefix = `px-${run}/`;
  await fx.create({
    ...plain,
    spec: { provider: { aws: { ...plain.spec.provider.aws, prefix } } },
  });
  for (const store of ['aws', 'prefixed']) await storeReady(store);
  for (const [name, dataFrom, , store] of CASES) {
    await externalSecret(name, store ?? 'aws', { dataFrom: [dataFrom] });
  }
  await externalSecret(DATA_AND_PATH_ONLY, 'aws', {
    data: [{ secretKey: 'db', remoteRef: { key: SECRETS.appDb.name } }],
    dataFrom: [{ find: { path: `${R}/none/` } }],
  });
});

// Several of these ExternalSecrets could select any secret of the account (a refused find fails
// every sync whatever it names): left behind, they would fail the plan of every later test's secret.
afterAll(async () => {
  await custom.deleteCollectionNamespacedCustomObject({
    group: 'external-secrets.io',
    version: 'v1',
    namespace,
    plural: 'externalsecrets',
  });
  // Each carries ESO's cleanup finalizer: deleted, it stays listed (with a deletionTimestamp) until
  // ESO has removed the finalizer, which under load takes a moment.
  await vi.waitFor(
    async () => {
      const left = (await custom.listNamespacedCustomObject({
        group: 'external-secrets.io',
        version: 'v1',
        namespace,
        plural: 'externalsecrets',
      })) as { items: unknown[] };
      expect(left.items).toEqual([]);
    },
    { timeout: 30_000, interval: 250 },
  );
}, 60_000);

describe('dataFrom[].find: the planner against the real ESO', () => {
  it('agrees with ESO on every find form, and plans ESO’s failures as sync-fails', async () => {
    const eso = new Map<string, Expected>();
    for (const [name] of CASES) eso.set(name, await esoOutcome(name));
    eso.set(DATA_AND_PATH_ONLY, await esoOutcome(DATA_AND_PATH_ONLY));

    const planned = new Map<string, SecretId[]>();
    const failing = new Map<string, SecretId[]>();
    const started = performance.now();
    for (const id of Object.keys(SECRETS) as SecretId[]) {
      const { secret, versionId } = await fx.rotatedSecret(SECRETS[id].name);
      const plan = await planPropagation(fx.asRotator(), secret, versionId);
      const mine = (targets: typeof plan.resync) =>
        targets.map((t) => t.affected).filter((a) => a.externalSecret.namespace === namespace);
      for (const a of mine(plan.resync)) append(planned, a.externalSecret.name, id);
      for (const a of mine(plan.notRefreshing)) {
        expect(a.refresh).toBe('sync-fails');
        append(failing, a.externalSecret.name, id);
      }
    }
    const planMs = performance.now() - started;

    const plannerOutcome = (name: string): Expected =>
      failing.has(name) && !planned.has(name) ? 'sync-fails' : [...(planned.get(name) ?? [])].sort();
    const expected = Object.fromEntries([
      ...CASES.map(([name, , outcome]) => [name, sorted(outcome)]),
      [DATA_AND_PATH_ONLY, 'sync-fails'],
    ]);
    expect(Object.fromEntries([...eso].map(([name, outcome]) => [name, sorted(outcome)]))).toEqual(expected);
    expect(Object.fromEntries([...eso.keys()].map((name) => [name, plannerOutcome(name)]))).toEqual(expected);
    // Six plans over every ExternalSecret of the cluster, the catastrophic pattern included.
    expect(planMs).toBeLessThan(30_000);
  });
});

function append(map: Map<string, SecretId[]>, key: string, id: SecretId) {
  map.set(key, [...(map.get(key) ?? []), id]);
}

function sorted(outcome: Expected): Expected {
  return outcome === 'sync-fails' ? outcome : [...outcome].sort();
}

async function externalSecret(name: string, store: string, spec: Record<string, unknown>) {
  await fx.create({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: store, kind: 'SecretStore' },
      target: { name },
      ...spec,
    },
  });
}

interface Conditioned {
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

async function storeReady(name: string) {
  await fx.eventually(`SecretStore ${namespace}/${name} to be ready`, async () => {
    const store = (await custom.getNamespacedCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      namespace,
      plural: 'secretstores',
      name,
    })) as Conditioned;
    return store.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      ? true
      : undefined;
  });
}

/**
 * What ESO made of one ExternalSecret once it settled: the secrets whose values its Secret holds,
 * or `sync-fails` when its Ready condition is False and ESO's warning event names the find.
 */
async function esoOutcome(name: string): Promise<Expected> {
  return fx.eventually(`ExternalSecret ${namespace}/${name} to settle`, async () => {
    const es = (await custom.getNamespacedCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      namespace,
      plural: 'externalsecrets',
      name,
    })) as Conditioned;
    const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return readSecretNames(name);
    if (ready?.reason !== 'SecretSyncedError') return undefined;
    const events = await fx.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${name},reason=UpdateFailed`,
    });
    const refused = events.items.some((e) =>
      /dataFrom\[0\]\.find.*(unexpected find operator|could not compile find\.name\.regexp)/.test(
        e.message ?? '',
      ),
    );
    return refused ? 'sync-fails' : undefined;
  });
}

async function readSecretNames(name: string): Promise<string[]> {
  const secret = await fx.core.readNamespacedSecret({ namespace, name }).catch((error: unknown) => {
    // ESO leaves no Secret when a find selects nothing (deletionPolicy Retain).
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  });
  const byName = new Map<string, string>(Object.entries(SECRETS).map(([id, { name }]) => [name, id]));
  return Object.values(secret?.data ?? {})
    .map((v) => byName.get(Buffer.from(v, 'base64').toString('utf8')) ?? 'a secret of another test')
    .sort();
}
