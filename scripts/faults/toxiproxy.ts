/**
 * toxiproxy-server (built by scripts/faults/build.sh) for TCP-level faults: latency, resets, black
 * holes. Started per test file on a free port and driven over its REST API with fetch.
 * @example const tp = await startToxiproxy(); const p = await tp.proxy('api', '127.0.0.1:6443'); await p.addToxic({ type: 'latency', attributes: { latency: 1000, jitter: 500 } });
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answersOk, waitUntilReady } from '../../harness/child-readiness';
import { startOnFreePorts } from '../../harness/free-port';
import { stopChild } from '../../harness/process-cleanup';

const BUILD = join(dirname(fileURLToPath(import.meta.url)), 'build.sh');

export interface Toxic {
  readonly name?: string;
  readonly type: 'latency' | 'timeout' | 'reset_peer' | 'limit_data' | 'slicer' | 'bandwidth' | 'slow_close';
  readonly stream?: 'upstream' | 'downstream';
  readonly toxicity?: number;
  readonly attributes: Record<string, number>;
}

export interface ToxiProxy {
  /** host:port to connect to instead of the upstream. */
  readonly listen: string;
  addToxic(toxic: Toxic): Promise<void>;
  removeToxic(name: string): Promise<void>;
  /** Removes every toxic and enables the proxy. */
  reset(): Promise<void>;
  setEnabled(enabled: boolean): Promise<void>;
}

export interface Toxiproxy {
  readonly api: string;
  proxy(name: string, upstream: string): Promise<ToxiProxy>;
  stop(): Promise<void>;
}

/** The toxiproxy-server binary's path (built once, cached). */
export function toxiproxyBinary(): string {
  return execFileSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** toxiproxy-server on a free port, started again on another (see startOnFreePorts) if it fails. */
async function spawnToxiproxy(): Promise<{ api: string; child: ChildProcess }> {
  const binary = toxiproxyBinary();
  return startOnFreePorts('toxiproxy-server', 1, async ([port]) => {
    const api = `http://127.0.0.1:${port}`;
    const child = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore' });
    try {
      await waitUntilReady('toxiproxy-server', child, answersOk(`${api}/version`), 10_000, port);
      return { api, child };
    } catch (error) {
      await stopChild(child, 0);
      throw error;
    }
  });
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const { api, child } = await spawnToxiproxy();
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : ((await response.json()) as Record<string, unknown>);
  };
  return {
    api,
    async proxy(name, upstream) {
      const created = await call('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream });
      const listen = String(created?.listen);
      const toxics = new Set<string>();
      const removeToxic = async (toxicName: string) => {
        await call('DELETE', `/proxies/${name}/toxics/${toxicName}`);
        toxics.delete(toxicName);
      };
      return {
        listen,
        async addToxic(toxic) {
          const toxicName = toxic.name ?? `${toxic.type}-${toxic.stream ?? 'downstream'}`;
          await call('POST', `/proxies/${name}/toxics`, {
            stream: 'downstream',
            toxicity: 1,
            ...toxic,
            name: toxicName,
          });
          toxics.add(toxicName);
        },
        removeToxic,
        async reset() {
          for (const toxicName of [...toxics]) await removeToxic(toxicName);
          await call('POST', `/proxies/${name}`, { enabled: true });
        },
        async setEnabled(enabled) {
          await call('POST', `/proxies/${name}`, { enabled });
        },
      };
    },
    async stop() {
      // A child killed by a signal has exitCode null and no 'exit' left to wait for: stopChild knows.
      await stopChild(child, 5_000);
    },
  };
}
