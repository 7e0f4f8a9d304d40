import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './process-cleanup';

const SCRIPTS = fileURLToPath(new URL('../scripts/cluster/', import.meta.url));

/** A local control plane with kwok nodes and ESO, started by scripts/cluster/up.sh. */
export interface LocalCluster {
  readonly stateDir: string;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  /** The orchestrator's identity: user "rotator" in group "secret-rotation-orchestrator". */
  readonly rotatorKubeconfig: string;
  readonly server: string;
  /** Path of the cluster CA certificate (PEM). */
  readonly caFile: string;
  /** A bearer token for user "eks-rotator" in the orchestrator's group, as EKS would map an IAM role. */
  readonly bearerToken: string;
  /** The kubectl built with the cluster (the machine's may be absent or another version). */
  readonly kubectl: string;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Local AWS endpoint (moto) that ESO reads Secrets Manager from. */
  readonly awsEndpoint: string;
  readonly stateDir?: string;
  /**
   * The EKS name its token webhook accepts tokens for (up.sh's ROTATOR_EKS_CLUSTER_NAME). Give each
   * cluster started beside another its own, and register it in moto with `localEksCluster`.
   * @default "local"
   */
  readonly eksClusterName?: string;
  /** Receives the scripts' progress lines. */
  readonly onLog?: (line: string) => void;
}

/**
 * Builds the cluster's binaries from Go modules (scripts/cluster/build.sh; at once when cached),
 * passing its progress lines on. Resolves when every binary is there; rejects with the build's
 * last lines when it fails. Start it early: nothing else needs to wait for it.
 */
export async function buildClusterBinaries(onLog?: (line: string) => void): Promise<void> {
  // Its own process group, so an interrupt stops the Go builds it runs in the background too.
  const child = spawn('bash', [join(SCRIPTS, 'build.sh')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const unregister = registerCleanup(() => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
  const lines: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      lines.push(line);
      onLog?.(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  unregister();
  if (code !== 0) {
    throw new Error(`scripts/cluster/build.sh failed (exit ${code}):\n${lines.slice(-30).join('\n')}`);
  }
}

/** Starts the cluster (building its binaries on first use) and stops it when this process exits. */
export async function startCluster(options: StartClusterOptions): Promise<LocalCluster> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'rotator-cluster-'));
  // up.sh runs in a process group of its own, so an interrupted start can be stopped as a whole
  // before down.sh stops what it had started.
  const child = spawn('bash', [join(SCRIPTS, 'up.sh'), stateDir], {
    env: {
      ...process.env,
      AWS_SECRETSMANAGER_ENDPOINT: options.awsEndpoint,
      AWS_STS_ENDPOINT: options.awsEndpoint,
      ...(options.eksClusterName ? { ROTATOR_EKS_CLUSTER_NAME: options.eksClusterName } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const stopStarting = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const stopNow = () => {
    stopStarting();
    spawnSync('bash', [join(SCRIPTS, 'down.sh'), stateDir], { stdio: 'ignore' });
  };
  // On an interrupt this process may be force-killed moments later (tsx allows its child 5 s), so
  // the clean-up only starts down.sh, detached, and returns at once; down.sh finishes on its own.
  const stopInBackground = () => {
    stopStarting();
    spawn('bash', [join(SCRIPTS, 'down.sh'), stateDir], { stdio: 'ignore', detached: true }).unref();
  };
  const unregister = registerCleanup(stopInBackground);
  const lines: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      lines.push(line);
      options.onLog?.(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) {
    stopNow();
    throw new Error(`scripts/cluster/up.sh failed (exit ${code}):\n${lines.slice(-30).join('\n')}`);
  }
  const env = Object.fromEntries(
    [...readFileSync(join(stateDir, 'env'), 'utf8').matchAll(/^export (\w+)="(.*)"$/gm)].map((m) => [
      m[1],
      m[2],
    ]),
  );
  return {
    stateDir,
    kubeconfig: env.KUBECONFIG ?? join(stateDir, 'kubeconfig'),
    rotatorKubeconfig: env.ROTATOR_KUBECONFIG ?? join(stateDir, 'rotator.kubeconfig'),
    server: env.ROTATOR_CLUSTER_SERVER ?? '',
    caFile: env.ROTATOR_CLUSTER_CA ?? join(stateDir, 'pki', 'ca.crt'),
    bearerToken: env.ROTATOR_CLUSTER_TOKEN ?? '',
    kubectl: env.ROTATOR_KUBECTL ?? 'kubectl',
    async stop() {
      stopNow();
      unregister();
    },
  };
}

/** The orchestrator's RBAC manifest and admission policy, as a cluster in EKS would have them applied. */
export const ORCHESTRATOR_MANIFESTS = [
  fileURLToPath(new URL('../infra/kubernetes/rbac.yaml', import.meta.url)),
  fileURLToPath(new URL('../infra/kubernetes/admission-policy.yaml', import.meta.url)),
] as const;

/** `kubectl apply` of manifest files as the cluster's admin. */
export function applyManifests(cluster: LocalCluster, files: readonly string[]): void {
  execFileSync(
    cluster.kubectl,
    ['--kubeconfig', cluster.kubeconfig, 'apply', ...files.flatMap((f) => ['-f', f])],
    { stdio: 'ignore' },
  );
}
