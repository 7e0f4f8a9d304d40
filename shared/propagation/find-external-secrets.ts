import type { AwsSecretStore, ExternalSecret, RotatedSecret, StoreRef } from './eso-types';

/** What a forced resync of this ExternalSecret will do, judged from its refresh settings. */
export type RefreshBehaviour = 'refreshes' | 'created-once' | 'refresh-disabled';

export interface AffectedExternalSecret {
  readonly externalSecret: ExternalSecret;
  /** The Kubernetes Secret ESO writes (spec.target.name, defaulting to the ExternalSecret's name). */
  readonly targetSecret: string;
  readonly reasons: readonly string[];
  readonly refresh: RefreshBehaviour;
}

/**
 * The ExternalSecrets whose references resolve to `secret` through an AWS Secrets Manager store in
 * the secret's region: `data[].remoteRef.key` and `dataFrom[].extract.key` (by name or ARN, with the
 * store's `prefix` applied), and `dataFrom[].find` by path, name regexp and tags.
 * References pinned to another version than AWSCURRENT do not count: a resync would not change them.
 */
export function findAffectedExternalSecrets(
  secret: RotatedSecret,
  externalSecrets: readonly ExternalSecret[],
  stores: readonly AwsSecretStore[],
): AffectedExternalSecret[] {
  const region = regionOf(secret.arn);
  const affected: AffectedExternalSecret[] = [];
  for (const es of externalSecrets) {
    const storeFor = (ref: StoreRef | undefined) =>
      resolveStore(es, ref ?? es.spec.secretStoreRef, stores, region);
    const reasons: string[] = [];
    for (const item of es.spec.data ?? []) {
      const store = storeFor(item.sourceRef?.storeRef);
      if (store && isCurrent(item.remoteRef.version) && keyMatches(item.remoteRef.key, store, secret)) {
        reasons.push(
          `data[${item.secretKey}].remoteRef.key=${item.remoteRef.key} via ${describeStore(store)}`,
        );
      }
    }
    (es.spec.dataFrom ?? []).forEach((item, index) => {
      const store = storeFor(item.sourceRef?.storeRef);
      if (!store) return;
      if (item.extract && isCurrent(item.extract.version) && keyMatches(item.extract.key, store, secret)) {
        reasons.push(`dataFrom[${index}].extract.key=${item.extract.key} via ${describeStore(store)}`);
      }
      if (item.find && findMatches(item.find, secret)) {
        reasons.push(`dataFrom[${index}].find matches via ${describeStore(store)}`);
      }
    });
    if (reasons.length > 0) {
      affected.push({
        externalSecret: es,
        targetSecret: es.spec.target?.name || es.name,
        reasons,
        refresh: refreshBehaviour(es),
      });
    }
  }
  return affected;
}

/** Whether ESO reconciles this ExternalSecret when its annotations change. */
export function refreshBehaviour(es: ExternalSecret): RefreshBehaviour {
  if (es.spec.refreshPolicy === 'CreatedOnce') return 'created-once';
  if (es.spec.refreshPolicy === 'OnChange') return 'refreshes';
  if (es.spec.refreshInterval !== undefined && /^0+(s|m|h)?$/.test(es.spec.refreshInterval)) {
    return 'refresh-disabled';
  }
  return 'refreshes';
}

function resolveStore(
  es: ExternalSecret,
  ref: StoreRef | undefined,
  stores: readonly AwsSecretStore[],
  region: string | undefined,
): AwsSecretStore | undefined {
  if (!ref) return undefined;
  const kind = ref.kind ?? 'SecretStore';
  const store = stores.find(
    (s) =>
      s.kind === kind &&
      s.name === ref.name &&
      (kind === 'ClusterSecretStore' || s.namespace === es.namespace),
  );
  if (store?.service !== 'SecretsManager') return undefined;
  if (region !== undefined && store.region !== region) return undefined;
  return store;
}

function keyMatches(key: string, store: AwsSecretStore, secret: RotatedSecret): boolean {
  if (key === secret.arn) return true;
  const effective = `${store.prefix ?? ''}${key}`;
  return effective === secret.name || effective === secret.arn;
}

function findMatches(
  find: { path?: string; name?: { regexp?: string }; tags?: Readonly<Record<string, string>> },
  secret: RotatedSecret,
): boolean {
  if (find.path !== undefined && !secret.name.startsWith(find.path)) return false;
  if (find.name?.regexp !== undefined && !safeRegExp(find.name.regexp)?.test(secret.name)) return false;
  for (const [key, value] of Object.entries(find.tags ?? {})) {
    if (secret.tags[key] !== value) return false;
  }
  return (
    find.path !== undefined || find.name?.regexp !== undefined || Object.keys(find.tags ?? {}).length > 0
  );
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function isCurrent(version: string | undefined): boolean {
  return version === undefined || version === '' || version === 'AWSCURRENT';
}

function regionOf(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(arn)?.[1];
}

function describeStore(store: AwsSecretStore): string {
  return store.kind === 'ClusterSecretStore'
    ? `ClusterSecretStore/${store.name}`
    : `SecretStore/${store.name}`;
}
