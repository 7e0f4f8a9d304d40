/** Annotations of our own, on a workload, to steer restarts. */
export const ANNOTATIONS = {
  /** "true": never restart this workload after a rotation. */
  ignore: 'secret-rotator.io/ignore',
  /** Comma-separated Kubernetes Secret names: restart when any of them is rotated, referenced or not. */
  secrets: 'secret-rotator.io/secrets',
  /**
   * When this workload may be restarted (shared/workflow/restart-window.ts), e.g.
   * `Sat,Sun 02:00-05:00 Europe/Berlin`; `always` exempts it from any other window. Read from the
   * workload's metadata, else from its Namespace's (the restart step GETs it); either wins over the
   * deployment's `restartWindows` (restart-window-policy.ts).
   */
  restartWindow: 'secret-rotator.io/restart-window',
  /**
   * ESO's own force-sync annotation, written on an ExternalSecret, or on the ClusterExternalSecret
   * that owns it (whose controller copies it to every child and strips other annotations from
   * them): `<version id>@<ISO time>`.
   */
  forceSync: 'external-secrets.io/force-sync',
} as const;

/**
 * stakater/Reloader's annotations, honoured as Reloader reads them (v1.4, `ShouldReload` in
 * pkg/common/common.go) so teams can migrate without re-annotating. Where each is read:
 * - on the workload (its metadata, or its pod template when the metadata has none of `reload`,
 *   `search`, `auto`, `secret…/auto`): `secretReload`, `auto`, `secretAuto`, `search`;
 * - on the workload's metadata only: `secretExclude`;
 * - on the Secret (never on a workload): `ignore`, `match`. ESO writes the Secret, so these come
 *   from the ExternalSecret's `spec.target.template.metadata.annotations` ({@link targetSecretAnnotations}).
 */
export const RELOADER_ANNOTATIONS = {
  /** Comma-separated Secret names, each an anchored regular expression: restart for those, referenced or not. */
  secretReload: 'secret.reloader.stakater.com/reload',
  /** "true": restart for every Secret (and ConfigMap) the workload references; set to anything else: never. */
  auto: 'reloader.stakater.com/auto',
  /** As `auto`, for Secrets only; either being true is enough. */
  secretAuto: 'secret.reloader.stakater.com/auto',
  /** Comma-separated Secret names the workload is never restarted for (exact names). */
  secretExclude: 'secrets.exclude.reloader.stakater.com/reload',
  /** "true" on a workload: restart only for referenced Secrets annotated `match`. */
  search: 'reloader.stakater.com/search',
  /** "true" on a Secret: workloads in search mode that reference it are restarted. */
  match: 'reloader.stakater.com/match',
  /** "true" on a Secret: no workload is restarted for it by Reloader's rules. */
  ignore: 'reloader.stakater.com/ignore',
} as const;

export function listAnnotation(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Go's strconv.ParseBool, as Reloader reads `auto`: only these spellings are true. */
export function reloaderTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/**
 * Whether Reloader's `reload` list names a Secret: each item is a regular expression matched
 * against the whole name as Go's `regexp.MustCompile("^" + item + "$")` does (unparenthesised, so
 * `a|b` means "starts with a or ends with b", as in Reloader). An item that is not a valid
 * JavaScript pattern (Reloader would panic on an invalid one) is compared as a plain name.
 * @example reloaderListMatcher('db-.*, cache')('db-main') // true
 */
export function reloaderListMatcher(value: string | undefined): (secret: string) => boolean {
  const tests = listAnnotation(value).map((item): ((secret: string) => boolean) => {
    try {
      const pattern = new RegExp(`^${item}$`);
      return (secret) => pattern.test(secret);
    } catch {
      return (secret) => secret === item;
    }
  });
  return (secret) => tests.some((test) => test(secret));
}

/**
 * The annotations ESO puts on the Secret an ExternalSecret writes: those of its
 * `spec.target.template.metadata`. The orchestrator may not read Secrets (see the RBAC manifest),
 * so this is all it knows of a Secret's annotations; ones added to the Secret by other means are
 * not seen. Non-string values are dropped.
 * @example targetSecretAnnotations(externalSecret.spec)
 */
export function targetSecretAnnotations(spec: unknown): Readonly<Record<string, string>> {
  const annotations = (
    spec as { target?: { template?: { metadata?: { annotations?: unknown } } } } | undefined
  )?.target?.template?.metadata?.annotations;
  if (typeof annotations !== 'object' || annotations === null) return {};
  return Object.fromEntries(
    Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/**
 * Of a Secret's annotations, the ones consumer selection reads (Reloader's `ignore` and `match`):
 * all the workflow's state carries per ExternalSecret.
 */
export function secretSideAnnotations(
  annotations: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const kept = Object.fromEntries(
    [RELOADER_ANNOTATIONS.ignore, RELOADER_ANNOTATIONS.match].flatMap((key) =>
      annotations[key] === undefined ? [] : [[key, annotations[key].slice(0, 64)]],
    ),
  );
  return Object.keys(kept).length > 0 ? kept : undefined;
}
