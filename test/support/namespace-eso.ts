/**
 * A second ESO controller, beside the local cluster's, that serves one namespace and one
 * controller class and reads Secrets Manager through an endpoint of the test's choosing (a proxy).
 * ESO v0.20.4's AWS provider has no per-store endpoint: the process's AWS_SECRETSMANAGER_ENDPOINT
 * is the only one (pkg/provider/aws/secretsmanager/resolver.go). A store whose `spec.controller`
 * names this class is skipped by the cluster's ESO (class "default": ShouldProcessStore in
 * pkg/controllers/secretstore/common.go, shouldSkipUnmanagedStore in the ExternalSecret
 * controller) and reconciled here. `--namespace` keeps this controller off every other namespace:
 * it would otherwise also reconcile the class-less stores of the cluster (class "" matches any
 * controller), under the other rows of the file. Its pid file goes into the cluster's state folder,
 * so the cluster's stop (scripts/cluster/down.sh) ends it with the rest if the test cannot; no
 * signal handler in the test worker (one there would swallow the SIGTERM vitest stops it with).
 * @example const eso = await startNamespaceEso({ namespace, controllerClass: 'stale-read', secretsManagerEndpoint: proxy.endpoint });
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

export interface NamespaceEso {
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface NamespaceEsoOptions {
  /** The local cluster's state folder (scripts/cluster/up.sh's; the admin kubeconfig's folder). */
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly controllerClass: string;
  /** Where this ESO's Secrets Manager calls go (AWS_SECRETSMANAGER_ENDPOINT). */
  readonly secretsManagerEndpoint: string;
  /** Where its STS calls would go (none with static credentials). */
  readonly stsEndpoint: string;
}

const VERSIONS = fileURLToPath(new URL('../../scripts/cluster/versions.env', import.meta.url));

/** The ESO binary scripts/cluster/build.sh builds (lib.sh's bin_eso). */
export function esoBinary(): string {
  const version = /^ESO_VERSION=(\S+)$/m.exec(readFileSync(VERSIONS, 'utf8'))?.[1];
  if (!version) throw new Error(`no ESO_VERSION in ${VERSIONS}`);
  const cache =
    process.env.ROTATOR_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'secret-rotation-orchestrator');
  return join(cache, 'bin', `external-secrets-${version}-aws`, 'external-secrets');
}

/** Starts the controller and resolves once its workers run (as scripts/cluster/up.sh waits). */
export async function startNamespaceEso(options: NamespaceEsoOptions): Promise<NamespaceEso> {
  const name = `external-secrets-${options.namespace}`;
  const logFile = join(options.stateDir, 'logs', `${name}.log`);
  const pidFile = join(options.stateDir, 'pids', `${name}.pid`);
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    esoBinary(),
    [
      '--enable-leader-election=false',
      '--metrics-addr=0',
      '--live-addr=0',
      '--concurrent=1',
      '--loglevel=info',
      `--controller-class=${options.controllerClass}`,
      `--namespace=${options.namespace}`,
      // Cluster-scoped objects are the cluster's ESO's; this one reconciles one namespace's.
      '--enable-cluster-store-reconciler=false',
      '--enable-cluster-external-secret-reconciler=false',
      '--enable-cluster-push-secret-reconciler=false',
      '--enable-push-secret-reconciler=false',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        KUBECONFIG: options.kubeconfig,
        AWS_SECRETSMANAGER_ENDPOINT: options.secretsManagerEndpoint,
        AWS_STS_ENDPOINT: options.stsEndpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  let failed: Error | undefined;
  child.once('error', (error) => {
    failed = error;
  });
  writeFileSync(pidFile, `${child.pid}\n`);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(pidFile, { force: true });
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!/starting workers|Starting Controller/i.test(readFileSync(logFile, 'utf8'))) {
    if (failed || child.exitCode !== null || Date.now() > deadline) {
      kill();
      throw new Error(`the namespace's ESO did not start (${failed?.message ?? `log: ${logFile}`})`);
    }
    await sleep(200);
  }
  return {
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // Unreferenced: a pending timer would keep the test worker alive after the file ends.
      await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
      kill();
    },
  };
}

/** Hands a namespace's SecretStore to the controller of `controllerClass` (merge patch of spec.controller). */
export async function assignStore(
  admin: KubeConfig,
  namespace: string,
  name: string,
  controllerClass: string,
): Promise<void> {
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: 'external-secrets.io',
      version: 'v1',
      namespace,
      plural: 'secretstores',
      name,
      body: { spec: { controller: controllerClass } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
