import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { type LocalCluster, startCluster } from '../../harness/local-cluster';
import { readLocalEks } from '../../harness/local-eks';
import { type MotoServer, startMoto } from '../../harness/moto-server';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    rotatorKubeconfig: string;
    clusterServer: string;
    clusterCaFile: string;
    clusterBearerToken: string;
    /** EKS name of the local cluster: tokens are signed for it; create it in moto with localEksCluster. */
    eksClusterName: string;
    /** The IAM identity the cluster's EKS token authenticator maps to group secret-rotation-orchestrator. */
    eksPrincipalArn: string;
  }
}

const RBAC = fileURLToPath(new URL('../../infra/kubernetes/rbac.yaml', import.meta.url));
const ADMISSION_POLICY = fileURLToPath(
  new URL('../../infra/kubernetes/admission-policy.yaml', import.meta.url),
);
let moto: MotoServer | undefined;
let cluster: LocalCluster | undefined;

/**
 * One moto and one real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)
 * with the real ESO controller reading from moto, for the whole cluster test run. The project's
 * RBAC manifest and admission policy are applied, so tests can act as the orchestrator's identity.
 */
export async function setup(project: TestProject): Promise<void> {
  moto = await startMoto();
  cluster = await startCluster({
    awsEndpoint: moto.endpoint,
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  // The admission policy too, so every test's engine writes pass through it as they would in EKS.
  const manifests = ['-f', RBAC, '-f', ADMISSION_POLICY];
  execFileSync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, 'apply', ...manifests], {
    stdio: 'ignore',
  });
  project.provide('motoEndpoint', moto.endpoint);
  project.provide('kubeconfig', cluster.kubeconfig);
  project.provide('rotatorKubeconfig', cluster.rotatorKubeconfig);
  project.provide('clusterServer', cluster.server);
  project.provide('clusterCaFile', cluster.caFile);
  project.provide('clusterBearerToken', cluster.bearerToken);
  const eks = readLocalEks(cluster.stateDir);
  project.provide('eksClusterName', eks.name);
  project.provide('eksPrincipalArn', eks.principalArn);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  await moto?.stop();
}
