import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  EKSClient,
  ResourceInUseException,
} from '@aws-sdk/client-eks';
import { localClient } from './local-aws';
import { LOCAL_AWS, registerLocalEksCluster } from './moto-server';

/**
 * The local cluster as EKS would present it: the name tokens are signed for, its API server and
 * CA, and the IAM identity its token authenticator maps to the group `secret-rotation-orchestrator`
 * (what moto's GetCallerIdentity returns for the LOCAL_AWS credentials).
 */
export interface LocalEks {
  readonly name: string;
  readonly server: string;
  readonly caFile: string;
  readonly principalArn: string;
}

/** Reads what scripts/cluster/up.sh wrote to STATE_DIR/env about the cluster's EKS side. */
export function readLocalEks(stateDir: string): LocalEks {
  const env = Object.fromEntries(
    [...readFileSync(join(stateDir, 'env'), 'utf8').matchAll(/^export (\w+)="(.*)"$/gm)].map((m) => [
      m[1],
      m[2],
    ]),
  );
  const pick = (key: string) => {
    const value = env[key];
    if (!value)
      throw new Error(
        `${key} missing from ${stateDir}/env: was the cluster started by scripts/cluster/up.sh?`,
      );
    return value;
  };
  return {
    name: pick('ROTATOR_CLUSTER_EKS_NAME'),
    server: pick('ROTATOR_CLUSTER_SERVER'),
    caFile: pick('ROTATOR_CLUSTER_CA'),
    principalArn: pick('ROTATOR_CLUSTER_EKS_PRINCIPAL_ARN'),
  };
}

/**
 * Creates the local cluster in moto's EKS under its name, so `eks:DescribeCluster` returns the
 * local API server and CA to code that connects the EKS way. Idempotent. A moto reset drops the
 * cluster but keeps the registration: call it again after one.
 * @example await localEksCluster(inject('motoEndpoint'), { name, server, caFile })
 */
export async function localEksCluster(
  motoEndpoint: string,
  cluster: Pick<LocalEks, 'name' | 'server' | 'caFile'>,
): Promise<void> {
  await registerLocalEksCluster(motoEndpoint, cluster);
  const eks = localClient(EKSClient, motoEndpoint);
  try {
    const create = () =>
      eks.send(
        new CreateClusterCommand({
          name: cluster.name,
          roleArn: `arn:aws:iam::${LOCAL_AWS.accountId}:role/local-eks-cluster`,
          resourcesVpcConfig: {},
        }),
      );
    try {
      await create();
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      // Created before the registration (or for another server): create it again.
      const { cluster: existing } = await eks.send(new DescribeClusterCommand({ name: cluster.name }));
      if (existing?.endpoint === cluster.server) return;
      await eks.send(new DeleteClusterCommand({ name: cluster.name }));
      await create();
    }
  } finally {
    eks.destroy();
  }
}
