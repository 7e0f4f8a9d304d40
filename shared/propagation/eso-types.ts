/** The parts of External Secrets Operator objects the planner reads (external-secrets.io v1 and v1beta1). */

export interface StoreRef {
  readonly name: string;
  readonly kind?: 'SecretStore' | 'ClusterSecretStore';
}

interface SourceRef {
  readonly storeRef?: StoreRef;
}

export interface ExternalSecretSpec {
  readonly secretStoreRef?: StoreRef;
  readonly target?: { readonly name?: string };
  readonly refreshPolicy?: 'CreatedOnce' | 'Periodic' | 'OnChange';
  readonly refreshInterval?: string;
  readonly data?: readonly {
    readonly secretKey: string;
    readonly remoteRef: { readonly key: string; readonly version?: string };
    readonly sourceRef?: SourceRef;
  }[];
  readonly dataFrom?: readonly {
    readonly extract?: { readonly key: string; readonly version?: string };
    readonly find?: {
      readonly path?: string;
      readonly name?: { readonly regexp?: string };
      readonly tags?: Readonly<Record<string, string>>;
    };
    readonly sourceRef?: SourceRef;
  }[];
}

/** What ESO reports about an ExternalSecret's last sync. */
export interface ExternalSecretSyncStatus {
  readonly refreshTime?: string;
  readonly syncedResourceVersion?: string;
  readonly ready?: { readonly status: string; readonly reason?: string; readonly message?: string };
}

export interface ExternalSecret {
  readonly namespace: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly generation: number;
  readonly spec: ExternalSecretSpec;
  /** Set when a ClusterExternalSecret created this ExternalSecret. */
  readonly ownerClusterExternalSecret?: string;
  /** The sync status as listed, so resync needs no extra read per object. */
  readonly syncStatus?: ExternalSecretSyncStatus;
}

export interface AwsSecretStore {
  readonly kind: 'SecretStore' | 'ClusterSecretStore';
  /** Empty for a ClusterSecretStore. */
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly region: string;
  readonly prefix?: string;
}

/** The secret whose new version is being propagated. */
export interface RotatedSecret {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}
