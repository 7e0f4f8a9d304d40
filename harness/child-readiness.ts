/**
 * Whether a child server a test started is ready, and is the one answering: the wait every starter
 * uses (moto, the database servers, toxiproxy, the Argo Rollouts controller; through
 * startOnFreePorts in free-port.ts), its checks (an HTTP answer, a TCP connection), and whether the
 * child itself holds the listening socket (/proc).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

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

/** A readiness check: whether something accepts TCP connections on 127.0.0.1:`port`. */
export function acceptsConnections(port: number): () => Promise<boolean> {
  return () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
}
