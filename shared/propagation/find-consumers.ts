import {
  ANNOTATIONS,
  listAnnotation,
  RELOADER_ANNOTATIONS,
  reloaderListMatcher,
  reloaderTrue,
} from './consumer-annotations';
import type { ContainerSpec, PodSpec, Workload } from './workload-types';

export type ConsumerVia =
  | 'env'
  | 'envFrom'
  | 'volume'
  | 'projected-volume'
  | 'annotation'
  | 'reloader-annotation';

/** Why a workload was chosen: which Kubernetes Secret it uses, and how. */
export interface ConsumerReason {
  readonly secret: string;
  readonly via: ConsumerVia;
  /** The container or volume that holds the reference. */
  readonly where?: string;
}

export interface ConsumerMatch {
  readonly workload: Workload;
  readonly reasons: readonly ConsumerReason[];
}

export interface ConsumerSkip {
  readonly workload: Workload;
  readonly why: string;
}

export interface ConsumerPlan {
  readonly consumers: readonly ConsumerMatch[];
  readonly skipped: readonly ConsumerSkip[];
}

export interface FindConsumersOptions {
  /**
   * Restart only workloads that opt in by annotation (Reloader's default, without
   * `--auto-reload-all`): ours naming the Secret, Reloader's `reload` list naming it, Reloader's
   * `auto` or `secret…/auto` "true" on a referencing workload, or Reloader's `search` "true" on a
   * referencing workload for a Secret annotated `match`. Default false: every referencing workload
   * unless it opts out (Reloader with `--auto-reload-all`, except that a workload in search mode
   * still needs `match`).
   */
  readonly requireOptIn?: boolean;
  /**
   * Annotations of the Kubernetes Secrets, by name, for Reloader's `ignore` and `match`: those ESO
   * writes from the ExternalSecret's target template ({@link targetSecretAnnotations}). A Secret
   * missing here has none: it is never ignored, never matched. Absent altogether, the Secrets'
   * annotations are unknown: Reloader's Secret-side rules are not applied (nothing is ignored, and
   * search mode restricts nothing, as if the workload did not ask for it).
   */
  readonly secretAnnotations?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/**
 * The workloads in one namespace that consume any of `secretNames` (Kubernetes Secrets written by
 * the affected ExternalSecrets), with the reasons each was chosen, and those deliberately skipped.
 * Decided per Secret, in this order (a workload is a consumer when any of its Secrets is chosen):
 * 1. `secret-rotator.io/ignore: "true"` on the workload: skipped, whatever else it says.
 * 2. The Secret named in `secret-rotator.io/secrets`: chosen (ours, so it wins over Reloader's opt-outs).
 * 3. Reloader's rules, as Reloader decides: the Secret annotated `reloader.stakater.com/ignore:
 *    "true"`, or named in the workload's `secrets.exclude.reloader.stakater.com/reload`: skipped;
 *    named by the workload's `secret.reloader.stakater.com/reload`: chosen, referenced or not.
 * 4. Otherwise only a workload that references the Secret: chosen in search mode when the Secret
 *    is annotated `match`, or when `auto` or `secret…/auto` is true; skipped when either is set to
 *    anything else (`auto: "false"`), when in search mode without `match` (Secret annotations
 *    known), or, unset, under requireOptIn.
 * @example findConsumers(new Set(['db-creds']), workloadsInNamespace)
 */
export function findConsumers(
  secretNames: ReadonlySet<string>,
  workloads: readonly Workload[],
  options: FindConsumersOptions = {},
): ConsumerPlan {
  const consumers: ConsumerMatch[] = [];
  const skipped: ConsumerSkip[] = [];
  for (const workload of workloads) {
    const references = referencesIn(workload.podSpec).filter((reason) => secretNames.has(reason.secret));
    const ours = listAnnotation(workload.annotations[ANNOTATIONS.secrets]).filter((s) => secretNames.has(s));
    const reloader = reloaderSettings(workload);
    const reloaders = [...secretNames].filter((secret) => reloader.reload(secret));
    const secrets = new Set([...references.map((reason) => reason.secret), ...ours, ...reloaders]);
    if (secrets.size === 0) continue;
    const chosen = new Set<string>();
    const refusals = new Set<string>();
    for (const secret of secrets) {
      const verdict =
        workload.annotations[ANNOTATIONS.ignore] === 'true'
          ? { why: `annotated ${ANNOTATIONS.ignore}=true` }
          : decide(
              secret,
              { named: ours.includes(secret), reloaderNamed: reloaders.includes(secret) },
              reloader,
              options,
            );
      if ('why' in verdict) refusals.add(verdict.why);
      else chosen.add(secret);
    }
    if (chosen.size === 0) {
      skipped.push({ workload, why: [...refusals].join('; ') });
      continue;
    }
    const reasons = [
      ...references.filter((reason) => chosen.has(reason.secret)),
      ...ours
        .filter((secret) => chosen.has(secret))
        .map((secret): ConsumerReason => ({ secret, via: 'annotation' })),
      ...reloaders
        .filter((secret) => chosen.has(secret))
        .map((secret): ConsumerReason => ({ secret, via: 'reloader-annotation' })),
    ];
    consumers.push({ workload, reasons });
  }
  return { consumers, skipped };
}

/** Reloader's annotations on one workload, read where Reloader reads them. */
interface ReloaderSettings {
  /** Whether the `reload` list names the Secret. */
  readonly reload: (secret: string) => boolean;
  readonly auto?: string;
  readonly secretAuto?: string;
  readonly search?: string;
  readonly exclude: readonly string[];
}

/**
 * Reloader reads `reload`, `search`, `auto` and `secret…/auto` from the workload's metadata, or, when
 * the metadata has none of the four, from its pod template; the exclude list from the metadata only.
 */
function reloaderSettings(workload: Workload): ReloaderSettings {
  const keys = [
    RELOADER_ANNOTATIONS.secretReload,
    RELOADER_ANNOTATIONS.search,
    RELOADER_ANNOTATIONS.auto,
    RELOADER_ANNOTATIONS.secretAuto,
  ];
  const source = keys.some((key) => Object.hasOwn(workload.annotations, key))
    ? workload.annotations
    : workload.podTemplateAnnotations;
  return {
    reload: reloaderListMatcher(source[RELOADER_ANNOTATIONS.secretReload]),
    auto: source[RELOADER_ANNOTATIONS.auto],
    secretAuto: source[RELOADER_ANNOTATIONS.secretAuto],
    search: source[RELOADER_ANNOTATIONS.search],
    exclude: listAnnotation(workload.annotations[RELOADER_ANNOTATIONS.secretExclude]),
  };
}

function decide(
  secret: string,
  use: { readonly named: boolean; readonly reloaderNamed: boolean },
  reloader: ReloaderSettings,
  options: FindConsumersOptions,
): { readonly chosen: true } | { readonly why: string } {
  if (use.named) return { chosen: true };
  const secretAnnotations = options.secretAnnotations?.get(secret) ?? {};
  if (secretAnnotations[RELOADER_ANNOTATIONS.ignore] === 'true') {
    return { why: `Secret ${secret} is annotated ${RELOADER_ANNOTATIONS.ignore}=true` };
  }
  if (reloader.exclude.includes(secret)) {
    return { why: `annotated ${RELOADER_ANNOTATIONS.secretExclude} with ${secret}` };
  }
  if (use.reloaderNamed) return { chosen: true };
  if (reloader.search === 'true' && secretAnnotations[RELOADER_ANNOTATIONS.match] === 'true') {
    return { chosen: true };
  }
  if (reloaderTrue(reloader.auto) || reloaderTrue(reloader.secretAuto)) return { chosen: true };
  // Go reads a missing annotation as "": only an unset (or empty) auto leaves the default to decide.
  const set = [
    [RELOADER_ANNOTATIONS.auto, reloader.auto],
    [RELOADER_ANNOTATIONS.secretAuto, reloader.secretAuto],
  ].filter(([, value]) => value !== undefined && value !== '');
  if (set.length > 0) return { why: `annotated ${set.map(([key, value]) => `${key}=${value}`).join(', ')}` };
  if (reloader.search === 'true' && options.secretAnnotations !== undefined) {
    return {
      why: `annotated ${RELOADER_ANNOTATIONS.search}=true and Secret ${secret} is not annotated ${RELOADER_ANNOTATIONS.match}=true`,
    };
  }
  if (options.requireOptIn) {
    return { why: 'references the secret but has no opt-in annotation (requireOptIn)' };
  }
  return { chosen: true };
}

/** Every Kubernetes Secret a pod spec references, in containers, init containers and volumes. */
export function referencesIn(podSpec: PodSpec): ConsumerReason[] {
  const containers = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
  const reasons = containers.flatMap(containerReferences);
  for (const volume of podSpec.volumes ?? []) {
    if (volume.secret?.secretName) {
      reasons.push({ secret: volume.secret.secretName, via: 'volume', where: volume.name });
    }
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret?.name)
        reasons.push({ secret: source.secret.name, via: 'projected-volume', where: volume.name });
    }
  }
  return reasons;
}

function containerReferences(container: ContainerSpec): ConsumerReason[] {
  const reasons: ConsumerReason[] = [];
  for (const env of container.env ?? []) {
    const name = env.valueFrom?.secretKeyRef?.name;
    if (name) reasons.push({ secret: name, via: 'env', where: container.name });
  }
  for (const source of container.envFrom ?? []) {
    const name = source.secretRef?.name;
    if (name) reasons.push({ secret: name, via: 'envFrom', where: container.name });
  }
  return reasons;
}
