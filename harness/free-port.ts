import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Where ports are picked when the kernel's ephemeral range leaves room below it. */
const LOWEST_PORT = 10_000;
/**
 * Ports handed out by this process lately (marked as soon as picked): two callers in one process
 * must not get the same one before either binds. Pickers in other processes are not seen: the
 * children's starters retry on new ports instead.
 */
const given = new Set<number>();

/**
 * The range this picker draws from: the ports below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default), or undefined when that range
 * leaves no room below it (then the kernel picks).
 *
 * Why below: a port picked inside the ephemeral range can be taken by any process's outgoing
 * connection between the pick and the child's bind. On a loaded test machine that happened: etcd
 * lost its client port to a connection of the cluster started beside it (bind: address already in
 * use), and the API server waited 90 s for an etcd that had exited. Outgoing connections never take
 * a port below the ephemeral range.
 */
export function pickRange(
  rangeFile = '/proc/sys/net/ipv4/ip_local_port_range',
): [number, number] | undefined {
  let low: number;
  try {
    low = Number.parseInt(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0] ?? '', 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(low) || low - 1 - LOWEST_PORT < 1_000) return undefined;
  return [LOWEST_PORT, low - 1];
}

/** Whether a listener can bind 127.0.0.1:port right now; port 0 asks the kernel, which answers the port. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * `count` distinct local ports nothing listens on right now, for child servers (moto, the local
 * cluster's etcd and API server, a database, toxiproxy, Argo Rollouts' health port), drawn at
 * random below the ephemeral range (see pickRange). A child may still lose a race for one (to a
 * picker in another process): every starter of a child retries on new ports (up.sh, moto, the
 * database servers, toxiproxy, the Argo Rollouts controller).
 */
export async function freePorts(count: number, range = pickRange()): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries >= 500) throw new Error(`no ${count} free local ports found in ${tries} tries`);
    const candidate = range ? range[0] + Math.floor(Math.random() * (range[1] - range[0] + 1)) : 0;
    if (given.has(candidate)) continue;
    const port = await tryListen(candidate);
    if (port === undefined || given.has(port)) continue;
    given.add(port);
    setTimeout(() => given.delete(port), 60_000).unref();
    ports.push(port);
  }
  return ports;
}

/** One port, as freePorts. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * Starts a child server on `count` fresh ports, and again on new ones when it fails (up to
 * `attempts` in all): a picker in another process can take a picked port before the child binds it
 * (see freePorts). `start` spawns, waits until the child is ready, and on failure stops its own
 * child and throws; the last attempt's error is thrown, named.
 */
export async function startOnFreePorts<T>(
  name: string,
  count: number,
  start: (ports: number[]) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (error) {
      if (attempt >= attempts) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${name} did not start in ${attempts} attempts: ${reason}`, { cause: error });
      }
    }
  }
}

/** What a readiness wait needs of a child process: its pid, and whether (and how) it has exited. */
interface Exitable {
  readonly pid?: number;
  readonly exitCode: number | null;
  readonly signalCode?: NodeJS.Signals | null;
}

function exited(child: Exitable): string | undefined {
  if (child.exitCode !== null) return `code ${child.exitCode}`;
  return child.signalCode ? `signal ${child.signalCode}` : undefined;
}

/**
 * Whether process `pid` holds a listening TCP socket on `port` (any address), read from /proc:
 * the LISTEN sockets on that port (net/tcp, net/tcp6) against the socket links in the process's fd
 * folder. Where the links cannot be read (another user's process, e.g. a database run as `nobody`,
 * without CAP_SYS_PTRACE as in a default container), a listener owned by another uid than the
 * process's is still not its own; otherwise undefined: /proc cannot tell (also without /proc).
 * `readlink` is for tests.
 */
export function listensOn(
  pid: number,
  port: number,
  proc = '/proc',
  readlink: (path: string) => string = readlinkSync,
): boolean | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const owners = new Map<string, string>(); // socket inode → its uid
  let tables = 0;
  for (const table of ['net/tcp', 'net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(join(proc, table), 'utf8');
    } catch {
      continue;
    }
    tables += 1;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; st 0A is LISTEN.
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[1]?.endsWith(suffix) && f[7] && f[9]) owners.set(f[9], f[7]);
    }
  }
  if (tables === 0) return undefined;
  if (owners.size === 0) return false;
  const fdDir = join(proc, String(pid), 'fd');
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return undefined;
  }
  let unreadable = false;
  for (const fd of fds) {
    let link: string;
    try {
      link = readlink(join(fdDir, fd));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // closed meanwhile
      unreadable = true;
      break;
    }
    if (link.startsWith('socket:[') && owners.has(link.slice('socket:['.length, -1))) return true;
  }
  if (!unreadable) return false;
  const uid = effectiveUid(pid, proc);
  return uid !== undefined && [...owners.values()].every((owner) => owner !== uid) ? false : undefined;
}

/** The effective uid of `pid` (its status file's Uid line: real, effective, saved, fs). */
function effectiveUid(pid: number, proc: string): string | undefined {
  try {
    const status = readFileSync(join(proc, String(pid), 'status'), 'utf8');
    return /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Waits until `ready()` says yes and the answer is the child's own. With `port`, the child must
 * hold the listening socket (listensOn): another process can take a picked port first, and its
 * server then answers while our child is still starting, to fail to bind a moment later (moto
 * takes about a second). Where /proc cannot tell (listensOn), the check is only that the child
 * still runs after the answer.
 */
export async function waitUntilReady(
  what: string,
  child: Exitable,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  port?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let answeredForAnother = false;
  while (Date.now() < deadline) {
    const gone = exited(child);
    if (gone) throw new Error(`${what} exited with ${gone}`);
    if ((await ready()) && !exited(child)) {
      const ours = port === undefined || child.pid === undefined || listensOn(child.pid, port) !== false;
      if (ours) return;
      answeredForAnother = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = answeredForAnother
    ? `: port ${port} answered, but its listening socket is not pid ${child.pid}'s`
    : '';
  throw new Error(`${what} was not ready within ${timeoutMs} ms${why}`);
}

/** A readiness check: whether a GET of `url` answers 2xx within 2 s (a listener that never answers is a no). */
export function answersOk(url: string): () => Promise<boolean> {
  return () =>
    fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false,
    );
}
