import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptsConnections } from '../../harness/child-readiness';
import { registerCleanup, stopChild } from '../../harness/process-cleanup';

/**
 * Reloader's identity in the local cluster: a client certificate for user `bench-reloader` in group
 * `bench-reloader`, bound to cluster-admin. Not the admin kubeconfig itself: its group
 * system:masters is exempt from API Priority and Fairness, so FlowSchemas could not count
 * Reloader's requests apart from ESO's (which runs as admin too). In a cluster Reloader runs as a
 * service account, which is not exempt either.
 */
export const RELOADER_USER = 'bench-reloader';

/** Reloader serves liveness and metrics on this port, a constant in its source. */
const RELOADER_PORT = 9090;
const RELOADER_HTTP = `http://127.0.0.1:${RELOADER_PORT}`;

/** The ClusterRoleBinding that gives {@link RELOADER_USER} what Reloader's chart grants and more. */
export function reloaderBinding() {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: RELOADER_USER },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RELOADER_USER }],
  };
}

/**
 * Writes a kubeconfig for {@link RELOADER_USER} into `<stateDir>/bench-reloader/`, signed by the
 * local cluster's CA (scripts/cluster/up.sh keeps it in `<stateDir>/pki`). Returns its path.
 */
export function writeReloaderKubeconfig(stateDir: string, server: string): string {
  const dir = join(stateDir, 'bench-reloader');
  const pki = join(stateDir, 'pki');
  mkdirSync(dir, { recursive: true });
  const [key, csr, crt] = ['key', 'csr', 'crt'].map((ext) => join(dir, `reloader.${ext}`)) as [
    string,
    string,
    string,
  ];
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-subj',
    `/O=${RELOADER_USER}/CN=${RELOADER_USER}`,
    '-out',
    csr,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(pki, 'ca.crt'),
    '-CAkey',
    join(pki, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    crt,
  );
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: local, cluster: {server: "${server}", certificate-authority: "${join(pki, 'ca.crt')}"}}]`,
      `users: [{name: ${RELOADER_USER}, user: {client-certificate: "${crt}", client-key: "${key}"}}]`,
      `contexts: [{name: local, context: {cluster: local, user: ${RELOADER_USER}}}]`,
      'current-context: local',
      '',
    ].join('\n'),
  );
  return kubeconfig;
}

export interface ReloaderOptions {
  readonly binary: string;
  readonly kubeconfig: string;
  /** `env-vars` (Reloader's default) or `annotations`. */
  readonly reloadStrategy: string;
  /** Reloader's output goes here. */
  readonly logFile: string;
}

/** One Reloader process out of cluster, watching every namespace, as its chart runs it by default. */
export class ReloaderProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly unregister: () => void,
    readonly logFile: string,
  ) {}

  /** Starts Reloader and resolves once its informers have listed every Secret and ConfigMap. */
  static async start(options: ReloaderOptions): Promise<ReloaderProcess> {
    if (await acceptsConnections(RELOADER_PORT)()) {
      throw new Error(
        `something already listens on port ${RELOADER_PORT}, where Reloader serves; stop it first`,
      );
    }
    const log = createWriteStream(options.logFile);
    const child = spawn(options.binary, [`--reload-strategy=${options.reloadStrategy}`, '--log-level=info'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: join(options.kubeconfig, '..'),
        KUBECONFIG: options.kubeconfig,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const unregister = registerCleanup(() => child.kill('SIGKILL'));
    const reloader = new ReloaderProcess(child, unregister, options.logFile);
    await reloader.ready();
    return reloader;
  }

  /** Reloader's own Prometheus metrics, e.g. `reloader_reload_executed_total`. */
  metrics(): Promise<string> {
    return fetchText(`${RELOADER_HTTP}/metrics`);
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
  async stop(): Promise<void> {
    await stopChild(this.child, 10_000);
    this.unregister();
  }

  /** Live, and the count of Secret and ConfigMap add events unchanged for a second (informers synced). */
  private async ready(): Promise<void> {
    const deadline = performance.now() + 60_000;
    let last = -1;
    while (performance.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`Reloader exited (${this.child.exitCode}); its log:\n${tail(this.logFile)}`);
      }
      const text = await this.metrics().catch(() => '');
      const adds = [
        ...text.matchAll(/^reloader_events_received_total\{[^}]*event_type="add"[^}]*\} (\S+)$/gm),
      ].reduce((n, m) => n + Number(m[1]), 0);
      if (text && adds > 0 && adds === last) return;
      last = text ? adds : -1;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`Reloader was not ready within 60 s; its log:\n${tail(this.logFile)}`);
  }
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
