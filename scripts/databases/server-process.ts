import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { acceptsConnections, waitUntilReady } from '../../harness/child-readiness';
import { startOnFreePorts } from '../../harness/free-port';
import { registerCleanup, stopChild } from '../../harness/process-cleanup';

/** The user a database server runs as: this process's own, or `nobody` when this process is root. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root (and MariaDB wants `--user=root` spelled out), so as root the
 * servers run as `nobody`, which every Debian system has; anyone else runs them as themselves.
 */
export function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no "nobody" user to run the database as');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Gives `dir` and everything in it to `runAs` (no-op when undefined). */
export function handOver(dir: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  chownSync(dir, runAs.uid, runAs.gid);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) handOver(path, runAs);
    else chownSync(path, runAs.uid, runAs.gid);
  }
}

/** Runs a setup command (initdb, mariadb-install-db) to completion as `runAs`; its output only on failure. */
export function runToCompletion(file: string, args: readonly string[], runAs: RunAs | undefined): void {
  try {
    execFileSync(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ?? {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${file} failed:\n${String(stdout ?? '')}${String(stderr ?? '')}`.slice(0, 4000));
  }
}

/** A long-running server child whose stderr tail is kept for failure messages, killed when this process exits. */
export interface ServerProcess {
  readonly child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export function spawnServer(file: string, args: readonly string[], runAs: RunAs | undefined): ServerProcess {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const unregister = registerCleanup(() => child.kill('SIGKILL'));
  return {
    child,
    log: () => tail,
    async stop() {
      await stopChild(child, 5000);
      unregister();
    },
  };
}

/** A server started by {@link startOnFreePort}: its port, and `stop()` that also removes its dir. */
export interface ListeningServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Spawns a server on a free port and waits until it accepts connections, started again on another
 * port when it fails (see startOnFreePorts). `dir`, the server's temp dir, is removed when it stops
 * or the last attempt fails.
 */
export async function startOnFreePort(options: {
  readonly name: string;
  readonly dir: string;
  readonly timeoutMs: number;
  readonly spawn: (port: number) => ServerProcess;
}): Promise<ListeningServer> {
  const { name, dir, timeoutMs, spawn: spawnOn } = options;
  try {
    return await startOnFreePorts(name, 1, async ([picked]) => {
      const port = picked as number;
      const server = spawnOn(port);
      try {
        await waitUntilReady(name, server.child, acceptsConnections(port), timeoutMs, port);
      } catch (error) {
        await server.stop();
        throw new Error(`${(error as Error).message}\n${server.log().slice(-3000)}`, { cause: error });
      }
      return {
        port,
        async stop() {
          await server.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
