import { type EsoFind, evaluateFind, type FindRefusal } from './eso-find';
import type { AwsSecretStore, ExternalSecret, RotatedSecret, StoreRef } from './eso-types';
import { MAX_FIND_REGEXP_LENGTH, nameRegexpCompiler } from './find-name-regexp';

/**
 * What a forced resync of this ExternalSecret will do, judged from its refresh settings and its
 * finds: `sync-fails` when ESO refuses one of its `dataFrom[].find` and so fails every sync.
 */
export type RefreshBehaviour = 'refreshes' | 'created-once' | 'refresh-disabled' | 'sync-fails';

/** A `dataFrom[].find` that ESO refuses, and why; never the pattern itself. */
export interface FindRefusalAt {
  readonly index: number;
  readonly refusal: FindRefusal;
}

export interface AffectedExternalSecret {
  readonly externalSecret: ExternalSecret;
  /** The Kubernetes Secret ESO writes (spec.target.name, defaulting to the ExternalSecret's name). */
  readonly targetSecret: string;
  readonly reasons: readonly string[];
  readonly refresh: RefreshBehaviour;
  /** The finds ESO refuses; when there is one, `refresh` is `sync-fails` (unless ESO never refreshes). */
  readonly findRefusals: readonly FindRefusalAt[];
}

const REFUSAL_TEXT: Record<FindRefusal, string> = {
  'no-find-operator': 'it has neither name nor tags, which ESO answers with "unexpected find operator"',
  'regexp-invalid': 'its name.regexp does not compile in RE2 as ESO compiles it (Go regexp)',
};

/**
 * The ExternalSecrets whose references resolve to `secret` through an AWS Secrets Manager store in
 * the secret's region: `data[].remoteRef.key` and `dataFrom[].extract.key` (by name or ARN, with the
 * store's `prefix` applied), and `dataFrom[].find` as ESO's AWS provider evaluates it (see
 * eso-find.ts). References pinned to another version than AWSCURRENT do not count: a resync would
 * not change them. An ExternalSecret with a find that ESO refuses is affected when that find could
 * select the secret or another reference resolves to it; its `refresh` is then `sync-fails`.
 */
export function findAffectedExternalSecrets(
  secret: RotatedSecret,
  externalSecrets: readonly ExternalSecret[],
  stores: readonly AwsSecretStore[],
): AffectedExternalSecret[] {
  const scope: Scope = { secret, stores, region: regionOf(secret.arn), compile: nameRegexpCompiler() };
  return externalSecrets.flatMap((es) => affectedBy(es, scope) ?? []);
}

interface Scope {
  readonly secret: RotatedSecret;
  readonly stores: readonly AwsSecretStore[];
  readonly region: string | undefined;
  readonly compile: ReturnType<typeof nameRegexpCompiler>;
}

function affectedBy(es: ExternalSecret, scope: Scope): AffectedExternalSecret | undefined {
  const { secret, region } = scope;
  // Without a region, any store's: a refused find fails the whole sync, whatever its store's region.
  const storeFor = (ref: StoreRef | undefined, anyRegion = false) =>
    resolveStore(es, ref ?? es.spec.secretStoreRef, scope.stores, anyRegion ? undefined : region);
  const reasons: string[] = [];
  const findRefusals: FindRefusalAt[] = [];
  for (const item of es.spec.data ?? []) {
    const store = storeFor(item.sourceRef?.storeRef);
    if (store && isCurrent(item.remoteRef.version) && keyMatches(item.remoteRef.key, store, secret)) {
      reasons.push(`data[${item.secretKey}].remoteRef.key=${item.remoteRef.key} via ${describeStore(store)}`);
    }
  }
  (es.spec.dataFrom ?? []).forEach((item, index) => {
    // ESO runs a find in preference to an extract in the same entry.
    if (item.find) {
      const store = storeFor(item.sourceRef?.storeRef, true);
      const found = store && findReason(item.find, index, store, scope);
      if (found?.refusal) findRefusals.push({ index, refusal: found.refusal });
      if (found?.reason) reasons.push(found.reason);
      return;
    }
    const store = storeFor(item.sourceRef?.storeRef);
    if (
      store &&
      item.extract &&
      isCurrent(item.extract.version) &&
      keyMatches(item.extract.key, store, secret)
    ) {
      reasons.push(`dataFrom[${index}].extract.key=${item.extract.key} via ${describeStore(store)}`);
    }
  });
  if (reasons.length === 0) return undefined;
  const refresh = refreshBehaviour(es);
  return {
    externalSecret: es,
    targetSecret: es.spec.target?.name || es.name,
    reasons: [...reasons, ...findRefusals.map(describeRefusal)],
    refresh: refresh === 'refreshes' && findRefusals.length > 0 ? 'sync-fails' : refresh,
    findRefusals,
  };
}

/** Why the plan does not count on ESO refreshing this ExternalSecret, for the ledger. */
export function notRefreshingReason(affected: AffectedExternalSecret): string {
  const why =
    affected.refresh === 'sync-fails'
      ? `ESO fails its sync: ${affected.findRefusals.map(describeRefusal).join('; ')}`
      : `ESO will not refresh it (${affected.refresh})`;
  return `${why}; its consumers are not restarted`;
}

function findReason(
  find: EsoFind,
  index: number,
  store: AwsSecretStore,
  scope: Scope,
): { reason?: string; refusal?: FindRefusal } {
  const verdict = evaluateFind(find, store, scope.secret, scope.compile);
  const selects = verdict.selects && (scope.region === undefined || store.region === scope.region);
  const at = `dataFrom[${index}].find`;
  const via = `via ${describeStore(store)}`;
  if (verdict.refused) {
    return { refusal: verdict.refused, ...(selects ? { reason: `${at} could select it ${via}` } : {}) };
  }
  if (!selects) return {};
  if (verdict.unevaluated) {
    const why = `is longer than ${MAX_FIND_REGEXP_LENGTH} characters: not evaluated, counted as matching`;
    return { reason: `${at}.name.regexp ${why} ${via}` };
  }
  return { reason: `${at} matches ${via}` };
}

function describeRefusal(at: FindRefusalAt): string {
  return `dataFrom[${at.index}].find is refused by ESO: ${REFUSAL_TEXT[at.refusal]}`;
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
