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
  /**
   * The replica regions it reads the secret in (through stores there), sorted; empty when it reads
   * only the primary. A resync waits until each has replicated the new version.
   */
  readonly replicaRegions?: readonly string[];
}

/** The secret's replica regions (DescribeSecret's ReplicationStatus in its primary region). */
export interface SecretRegions {
  readonly replicaRegions?: readonly string[];
}

/**
 * An ExternalSecret that names the secret through a store in a region that is neither the secret's
 * nor one of its replicas: there, the name is another secret or none. Never resynced; reported.
 */
export interface OtherRegionReference {
  readonly externalSecret: ExternalSecret;
  /** The stores' regions, sorted. */
  readonly regions: readonly string[];
  readonly reasons: readonly string[];
}

const REFUSAL_TEXT: Record<FindRefusal, string> = {
  'no-find-operator': 'it has neither name nor tags, which ESO answers with "unexpected find operator"',
  'regexp-invalid': 'its name.regexp does not compile in RE2 as ESO compiles it (Go regexp)',
};

/**
 * The ExternalSecrets whose references resolve to `secret` through an AWS Secrets Manager store in
 * the secret's region or one of its replica regions (`regions`; the replica there has the same name,
 * and its ARN differs in the region only): `data[].remoteRef.key` and `dataFrom[].extract.key` (by name or ARN, with the
 * store's `prefix` applied), and `dataFrom[].find` as ESO's AWS provider evaluates it (see
 * eso-find.ts). References pinned to another version than AWSCURRENT do not count: a resync would
 * not change them. An ExternalSecret with a find that ESO refuses is affected when that find could
 * select the secret or another reference resolves to it; its `refresh` is then `sync-fails`.
 */
export function findAffectedExternalSecrets(
  secret: RotatedSecret,
  externalSecrets: readonly ExternalSecret[],
  stores: readonly AwsSecretStore[],
  regions: SecretRegions = {},
): AffectedExternalSecret[] {
  const home = regionOf(secret.arn);
  const replicas = new Set(regions.replicaRegions ?? []);
  const scope: Scope = {
    secret,
    stores,
    // An ARN without a region (not AWS's): any store's, as before replicas were known.
    reads: (region) => home === undefined || region === home || replicas.has(region),
    home,
    compile: nameRegexpCompiler(),
  };
  return externalSecrets.flatMap((es) => {
    const found = affectedBy(es, scope);
    if (!found) return [];
    const refresh = refreshBehaviour(es);
    return [
      {
        externalSecret: es,
        targetSecret: es.spec.target?.name || es.name,
        reasons: [...found.reasons, ...found.findRefusals.map(describeRefusal)],
        refresh: refresh === 'refreshes' && found.findRefusals.length > 0 ? 'sync-fails' : refresh,
        findRefusals: found.findRefusals,
        replicaRegions: found.regions.filter((r) => r !== home),
      },
    ];
  });
}

/**
 * The ExternalSecrets that name `secret` (as {@link findAffectedExternalSecrets} would) only through
 * stores in regions that are neither the secret's nor a replica's: reported, never resynced.
 */
export function findOtherRegionReferences(
  secret: RotatedSecret,
  externalSecrets: readonly ExternalSecret[],
  stores: readonly AwsSecretStore[],
  regions: SecretRegions = {},
): OtherRegionReference[] {
  const home = regionOf(secret.arn);
  if (home === undefined) return [];
  const replicas = new Set(regions.replicaRegions ?? []);
  const scope: Scope = {
    secret,
    stores,
    reads: (region) => region !== home && !replicas.has(region),
    home,
    compile: nameRegexpCompiler(),
  };
  return externalSecrets.flatMap((es) => {
    const found = affectedBy(es, scope);
    return found && found.reasons.length > 0
      ? [{ externalSecret: es, regions: found.regions, reasons: found.reasons }]
      : [];
  });
}

interface Scope {
  readonly secret: RotatedSecret;
  readonly stores: readonly AwsSecretStore[];
  /** Whether a store in this region counts. */
  readonly reads: (region: string) => boolean;
  /** The secret's own region, from its ARN. */
  readonly home: string | undefined;
  readonly compile: ReturnType<typeof nameRegexpCompiler>;
}

interface Found {
  readonly reasons: readonly string[];
  readonly findRefusals: readonly FindRefusalAt[];
  /** The regions of the stores the reasons go through, sorted. */
  readonly regions: readonly string[];
}

function affectedBy(es: ExternalSecret, scope: Scope): Found | undefined {
  const { secret } = scope;
  // Any region's for a find: a refused find fails the whole sync, whatever its store's region.
  const storeFor = (ref: StoreRef | undefined, anyRegion = false) => {
    const store = resolveStore(es, ref ?? es.spec.secretStoreRef, scope.stores);
    return store && (anyRegion || scope.reads(store.region)) ? store : undefined;
  };
  const reasons: string[] = [];
  const findRefusals: FindRefusalAt[] = [];
  const regions = new Set<string>();
  const via = (store: AwsSecretStore) => {
    regions.add(store.region);
    return describeStore(store, scope.home);
  };
  for (const item of es.spec.data ?? []) {
    const store = storeFor(item.sourceRef?.storeRef);
    if (store && isCurrent(item.remoteRef.version) && keyMatches(item.remoteRef.key, store, secret)) {
      reasons.push(`data[${item.secretKey}].remoteRef.key=${item.remoteRef.key} via ${via(store)}`);
    }
  }
  (es.spec.dataFrom ?? []).forEach((item, index) => {
    // ESO runs a find in preference to an extract in the same entry.
    if (item.find) {
      const store = storeFor(item.sourceRef?.storeRef, true);
      const found = store && findReason(item.find, index, store, scope);
      if (found?.refusal) findRefusals.push({ index, refusal: found.refusal });
      if (found?.reason && store) {
        regions.add(store.region);
        reasons.push(found.reason);
      }
      return;
    }
    const store = storeFor(item.sourceRef?.storeRef);
    if (
      store &&
      item.extract &&
      isCurrent(item.extract.version) &&
      keyMatches(item.extract.key, store, secret)
    ) {
      reasons.push(`dataFrom[${index}].extract.key=${item.extract.key} via ${via(store)}`);
    }
  });
  if (reasons.length === 0) return undefined;
  return { reasons, findRefusals, regions: [...regions].sort() };
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
  const selects = verdict.selects && scope.reads(store.region);
  const at = `dataFrom[${index}].find`;
  const via = `via ${describeStore(store, scope.home)}`;
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
): AwsSecretStore | undefined {
  if (!ref) return undefined;
  const kind = ref.kind ?? 'SecretStore';
  const store = stores.find(
    (s) =>
      s.kind === kind &&
      s.name === ref.name &&
      (kind === 'ClusterSecretStore' || s.namespace === es.namespace),
  );
  return store?.service === 'SecretsManager' ? store : undefined;
}

/** By name, or by the ARN the secret has in the store's region (a replica's differs in the region only). */
function keyMatches(key: string, store: AwsSecretStore, secret: RotatedSecret): boolean {
  const arn = arnInRegion(secret.arn, store.region);
  if (key === arn) return true;
  const effective = `${store.prefix ?? ''}${key}`;
  return effective === secret.name || effective === arn;
}

/**
 * The ARN of the secret's replica in `region` (AWS keeps the name and its suffix, and changes the
 * region only); the ARN itself in its own region.
 * @example arnInRegion('arn:aws:secretsmanager:us-east-1:1:secret:a-Ab12Cd', 'eu-west-1')
 */
export function arnInRegion(arn: string, region: string): string {
  return arn.replace(/^(arn:aws[a-z-]*:secretsmanager:)[a-z0-9-]+:/, `$1${region}:`);
}

function isCurrent(version: string | undefined): boolean {
  return version === undefined || version === '' || version === 'AWSCURRENT';
}

/** The region in a Secrets Manager ARN; undefined when it is not one. */
export function regionOf(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(arn)?.[1];
}

function describeStore(store: AwsSecretStore, home: string | undefined): string {
  const name =
    store.kind === 'ClusterSecretStore' ? `ClusterSecretStore/${store.name}` : `SecretStore/${store.name}`;
  return home === undefined || store.region === home ? name : `${name} (${store.region})`;
}
