/** Manifests for ESO objects that read Secrets Manager from the local AWS (moto accepts any key). */

/** A Secret holding the local AWS credentials, as a SecretStore's `auth.secretRef` wants them. */
export function localAwsCredentialsSecret(namespace: string, name = 'aws-credentials') {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: { 'access-key': 'testing', 'secret-key': 'testing' },
  };
}

/** A SecretStore for AWS Secrets Manager in us-east-1, authenticating with that Secret. */
export function awsSecretStore(namespace: string, name = 'aws', credentials = 'aws-credentials') {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name, namespace },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'us-east-1',
          auth: {
            secretRef: {
              accessKeyIDSecretRef: { name: credentials, key: 'access-key' },
              secretAccessKeySecretRef: { name: credentials, key: 'secret-key' },
            },
          },
        },
      },
    },
  };
}

/** A ClusterSecretStore for AWS Secrets Manager in us-east-1, with credentials in one namespace. */
export function awsClusterSecretStore(
  name: string,
  credentialsNamespace: string,
  credentials = 'aws-credentials',
) {
  const store = awsSecretStore(credentialsNamespace, name, credentials);
  const auth = store.spec.provider.aws.auth.secretRef;
  return {
    apiVersion: store.apiVersion,
    kind: 'ClusterSecretStore',
    metadata: { name },
    spec: {
      provider: {
        aws: {
          ...store.spec.provider.aws,
          auth: {
            secretRef: {
              accessKeyIDSecretRef: { ...auth.accessKeyIDSecretRef, namespace: credentialsNamespace },
              secretAccessKeySecretRef: { ...auth.secretAccessKeySecretRef, namespace: credentialsNamespace },
            },
          },
        },
      },
    },
  };
}

/**
 * An ExternalSecret that copies the `password` property of Secrets Manager secret `key` through
 * SecretStore `aws` into Kubernetes Secret `<name>-secret` (or `spec.target`), refreshing hourly;
 * `spec` overrides any of those fields.
 */
export function awsExternalSecret(
  namespace: string,
  name: string,
  key: string,
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name, namespace },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: 'aws', kind: 'SecretStore' },
      target: { name: `${name}-secret` },
      data: [{ secretKey: 'password', remoteRef: { key, property: 'password' } }],
      ...spec,
    },
  };
}
