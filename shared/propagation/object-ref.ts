/** One Kubernetes object by kind, namespace and name: a workload, an ExternalSecret, a Secret. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * The one text form of an object reference, used as a map key and in the ledger, alerts and logs.
 * @example refKey({ kind: 'Deployment', namespace: 'shop', name: 'api' }) // 'Deployment/shop/api'
 */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
