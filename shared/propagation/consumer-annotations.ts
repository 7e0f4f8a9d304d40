/** Annotations of our own, on a workload, to steer restarts. */
export const ANNOTATIONS = {
  /** "true": never restart this workload after a rotation. */
  ignore: 'secret-rotator.io/ignore',
  /** Comma-separated Kubernetes Secret names: restart when any of them is rotated, referenced or not. */
  secrets: 'secret-rotator.io/secrets',
  /**
   * ESO's own force-sync annotation, written on an ExternalSecret, or on the ClusterExternalSecret
   * that owns it (whose controller copies it to every child and strips other annotations from
   * them): `<version id>@<ISO time>`.
   */
  forceSync: 'external-secrets.io/force-sync',
} as const;

/** stakater/Reloader's annotations, honoured so teams can migrate without re-annotating. */
export const RELOADER_ANNOTATIONS = {
  secretReload: 'secret.reloader.stakater.com/reload',
  auto: 'reloader.stakater.com/auto',
  secretAuto: 'secret.reloader.stakater.com/auto',
} as const;

export function listAnnotation(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
