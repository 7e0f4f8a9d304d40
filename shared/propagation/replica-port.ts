import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import { regionOf } from './find-external-secrets';

/** One replica of a secret, as DescribeSecret's ReplicationStatus in the primary region gives it. */
export interface ReplicaStatus {
  readonly region: string;
  /** InSync, InProgress or Failed. */
  readonly status: string;
  readonly statusMessage?: string;
}

/**
 * The Secrets Manager reads that replica regions need, and no others: the primary's replication
 * status, and a replica's version stages read in the replica's own region. Failures are AwsCallErrors.
 */
export interface ReplicaPort {
  /** DescribeSecret on the secret's ARN in its own region: its replicas (none when it has none). */
  replicationOf(secretArn: string): Promise<readonly ReplicaStatus[]>;
  /** DescribeSecret on the replica's ARN in `region`: its version ids and their stages. */
  stagesIn(region: string, replicaArn: string): Promise<Readonly<Record<string, readonly string[]>>>;
}

/**
 * A secret's replicas from DescribeSecret in its primary region, over a client the caller owns (the
 * CLI's, in the secret's region). DescribeSecret only: no value is read.
 */
export async function replicationOf(
  client: SecretsManagerClient,
  secretArn: string,
): Promise<readonly ReplicaStatus[]> {
  try {
    return replicaStatuses(await client.send(new DescribeSecretCommand({ SecretId: secretArn })));
  } catch (error) {
    throw toAwsCallError('DescribeSecret', secretArn, error);
  }
}

function replicaStatuses(out: DescribeSecretCommandOutput): ReplicaStatus[] {
  return (out.ReplicationStatus ?? []).flatMap((r) =>
    r.Region
      ? [
          {
            region: r.Region,
            status: r.Status ?? 'unknown',
            ...(r.StatusMessage && { statusMessage: r.StatusMessage }),
          },
        ]
      : [],
  );
}

/**
 * {@link ReplicaPort} over one SDK client per region (created on first use, kept for the container).
 * DescribeSecret only: no value is read.
 * @example const replicas = secretsManagerReplicas({ ...AWS_CLIENT_OPTIONS })
 */
export function secretsManagerReplicas(options: SecretsManagerClientConfig): ReplicaPort {
  const clients = new Map<string, SecretsManagerClient>();
  const clientIn = (region: string | undefined) => {
    const key = region ?? '';
    let client = clients.get(key);
    if (!client) {
      client = new SecretsManagerClient(region ? { ...options, region } : options);
      clients.set(key, client);
    }
    return client;
  };
  const describe = async (region: string | undefined, secretId: string) => {
    try {
      return await clientIn(region).send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (error) {
      throw toAwsCallError(region ? `DescribeSecret in ${region}` : 'DescribeSecret', secretId, error);
    }
  };
  return {
    async replicationOf(secretArn) {
      return replicaStatuses(await describe(regionOf(secretArn), secretArn));
    },
    async stagesIn(region, replicaArn) {
      return (await describe(region, replicaArn)).VersionIdsToStages ?? {};
    },
  };
}
