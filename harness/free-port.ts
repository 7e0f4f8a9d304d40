import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

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

/**
 * Starts a child server on `count` fresh ports, and again on new ones when it fails (up to
 * `attempts` in all): a picker in another process can take a picked port before the child binds it
 * (see freePorts). `start` spawns, waits until the child is ready (child-readiness.ts), and on
 * failure stops its own child and throws; the last attempt's error is thrown, named.
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
