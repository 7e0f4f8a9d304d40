import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { answersOk, waitUntilReady } from './child-readiness';
import { startOnFreePorts } from './free-port';
import { registerCleanup, stopChild } from './process-cleanup';

/** moto's server plus the local-EKS registration and presigned-STS routing (see the file). */
const MOTO_LAUNCHER = fileURLToPath(new URL('./moto_with_local_eks.py', import.meta.url));

/** A moto server in server mode on 127.0.0.1, owned by this process. */
export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  /** Drops all state (POST /moto-api/reset). */
  reset(): Promise<void>;
  /**
   * The traceback of the last request moto answered with HTTP 500 (its server logs them to
   * stderr), if any: the HTML page it answers with says only "Internal Server Error". moto logs it
   * after answering, so this waits up to `waitMs` (default 1 s) for one to appear.
   */
  lastTraceback(waitMs?: number): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** Where an EKS cluster created in moto under `name` really is: a local API server and its CA. */
export interface LocalEksEndpoint {
  /** The cluster name CreateCluster/DescribeCluster use. */
  readonly name: string;
  /** The API server URL DescribeCluster returns as `endpoint`. */
  readonly server: string;
  /** PEM file of the API server's CA; DescribeCluster returns it base64-encoded. */
  readonly caFile: string;
}

export interface StartMotoOptions {
  /**
   * Python with moto[server] installed; scripts/lib/ensure-deps.sh exports MOTO_PYTHON. It must
   * listen itself (a wrapper script that does not `exec` leaves the socket to another pid, and
   * readiness, which wants the child's own socket, never comes).
   */
  readonly python?: string;
  readonly readyTimeoutMs?: number;
  /** EKS clusters to register as local right after start (see {@link registerLocalEksCluster}). Default: none. */
  readonly localEksClusters?: readonly LocalEksEndpoint[];
}

/** Local credentials and region for talking to moto; moto accepts any. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  accountId: '123456789012',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
} as const;

/**
 * Starts moto on a free loopback port, waits until it answers, and stops it when this process exits.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = options.python ?? process.env.MOTO_PYTHON;
  if (!python) {
    throw new Error(
      'MOTO_PYTHON is not set: run through scripts/test.sh or scripts/demo.sh, which install moto',
    );
  }
  return startOnFreePorts('moto', 1, async ([port]) => {
    const child = spawn(python, [MOTO_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
    });
    const log = logTail(child);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      const ready = answersOk(`${endpoint}/moto-api/data.json`);
      await waitUntilReady('moto', child, ready, options.readyTimeoutMs ?? 20_000, port);
      await configureMoto(endpoint);
      for (const cluster of options.localEksClusters ?? []) await registerLocalEksCluster(endpoint, cluster);
      return motoHandle(endpoint, port as number, child, log);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${log().slice(-2000)}`, { cause: error });
    }
  });
}

/** At least the last 64 KiB of the child's stderr (moto logs a line per request there). */
function logTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail += chunk.toString();
    if (tail.length > 131_072) tail = tail.slice(-65_536);
  });
  return () => tail;
}

function lastTraceback(log: string): string | undefined {
  const start = log.lastIndexOf('Traceback (most recent call last):');
  if (start < 0) return undefined;
  // Frames are indented; the exception's line is the first that is not and names it. Lines other
  // threads logged meanwhile (one per request: "127.0.0.1 - - [...] ...") are left out.
  const [first = '', ...rest] = log.slice(start).split('\n');
  const lines = [first];
  for (const line of rest) {
    if (/^\d+\.\d+\.\d+\.\d+ - /.test(line)) continue;
    lines.push(line);
    if (/^[A-Za-z_][\w.]*(: |$)/.test(line)) break;
  }
  return lines.join('\n');
}

function motoHandle(endpoint: string, port: number, child: ChildProcess, log: () => string): MotoServer {
  const unregister = registerCleanup(() => child.kill('SIGKILL'));
  return {
    endpoint,
    port,
    async lastTraceback(waitMs = 1000) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const traceback = lastTraceback(log());
        if (traceback || Date.now() >= deadline) return traceback;
        await sleep(50);
      }
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      await stopChild(child, 3000);
      unregister();
    },
  };
}

/** Lambda functions exist in moto only as names to point RotateSecret at: no Docker, no code runs. */
async function configureMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  if (!response.ok) throw new Error(`moto config failed: HTTP ${response.status}`);
}

/**
 * Makes moto's EKS report a local API server for clusters created from now on under
 * `cluster.name`: DescribeCluster returns its endpoint and CA, so code that connects the EKS way
 * reaches the local cluster. Registrations survive {@link MotoServer.reset}.
 * @example await registerLocalEksCluster(moto.endpoint, { name: 'local', server, caFile })
 */
export async function registerLocalEksCluster(
  motoEndpoint: string,
  cluster: LocalEksEndpoint,
): Promise<void> {
  const certificateAuthorityData = readFileSync(cluster.caFile).toString('base64');
  const response = await fetch(`${motoEndpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      rotator_local_eks: {
        clusters: { [cluster.name]: { endpoint: cluster.server, certificateAuthorityData } },
      },
    }),
  });
  // Plain moto answers 201 and ignores the key; the launcher echoes the registration back.
  const config = (await response.json().catch(() => ({}))) as {
    rotator_local_eks?: { clusters?: Record<string, unknown> };
  };
  if (!response.ok || !config.rotator_local_eks?.clusters?.[cluster.name]) {
    throw new Error(
      `moto did not register the local EKS cluster ${cluster.name} (HTTP ${response.status}): ` +
        'was it started through harness/moto_with_local_eks.py?',
    );
  }
}

/**
 * Makes moto's RotateSecret behave as AWS's does (see moto_rotation_semantics.py): for local runs
 * that play Secrets Manager's part, running the rotation function's steps themselves.
 */
export async function useAwsRotationSemantics(
  motoEndpoint: string,
  /** Secrets to age: name → days, as if created (and scheduled) that long ago. */
  ageDays: Record<string, number> = {},
): Promise<void> {
  const response = await fetch(`${motoEndpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rotator_aws_rotation: { enabled: true, ageDays } }),
  });
  if (!response.ok) throw new Error(`moto refused the rotation semantics switch (HTTP ${response.status})`);
}
