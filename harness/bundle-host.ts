import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

// The host script's name differs from this module's: Vite resolves an extensionless import to
// `.mjs` before `.ts`, and would run the script inside the importing process.
const HOST = join(dirname(fileURLToPath(import.meta.url)), 'lambda-container.mjs');

/** What a Lambda invocation failure looks like to Step Functions: the error's name and message. */
export class LambdaInvocationError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(JSON.stringify({ errorType, errorMessage }));
    // Step Functions matches Retry and Catch rules on this name.
    this.name = errorType;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * What Step Functions reports when the function's runtime dies mid-invocation (killed, out of
 * memory, process exit): Lambda answers without an error type, which Step Functions names
 * `Lambda.Unknown` (the workflow retries it, review M1).
 */
function runtimeExited(code: number | null, signal: NodeJS.Signals | null): LambdaInvocationError {
  const exit = signal ? `signal: ${signal}` : `exit status ${code}`;
  const payload = { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${exit}` };
  return new LambdaInvocationError(
    'Lambda.Unknown',
    `The cause could not be determined because Lambda did not return an error type. Returned payload: ${JSON.stringify(payload)}`,
  );
}

/**
 * A bundled Lambda artifact running in its own Node process, warm across invocations like a Lambda
 * container, with only the environment it is given. Its stdout and stderr (the function's logs) go
 * to `onOutput`.
 */
export class BundleHost {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly ready: Promise<string>;

  constructor(
    directory: string,
    functionName: string,
    environment: Record<string, string>,
    onOutput: (chunk: string) => void = () => {},
  ) {
    this.child = spawn(process.execPath, [HOST, directory, functionName], {
      env: environment,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString('utf8')));
    // A request written as the process dies fails on 'close' below, not as an EPIPE thrown here.
    this.child.stdin?.on('error', () => {});
    const lines = createInterface({ input: this.child.stdio[3] as Readable });
    this.ready = new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Record<string, unknown>;
        if ('ready' in message) {
          if (message.ready) resolve(String(message.node));
          else reject(new Error(`bundle failed to load: ${message.name}: ${message.message}`));
          return;
        }
        const waiter = this.pending.get(message.id as number);
        this.pending.delete(message.id as number);
        if (message.ok) waiter?.resolve(message.result);
        else
          waiter?.reject(new LambdaInvocationError(String(message.errorType), String(message.errorMessage)));
      });
      // On close, not exit: a result the process wrote before it died is read first, and counts.
      this.child.on('close', (code, signal) => {
        reject(new Error(`bundle host for ${functionName} exited (${signal ?? code})`));
        for (const waiter of this.pending.values()) waiter.reject(runtimeExited(code, signal));
        this.pending.clear();
      });
    });
  }

  /** The Node version the bundle runs on, once it has loaded. */
  nodeVersion(): Promise<string> {
    return this.ready;
  }

  async invoke(event: unknown): Promise<unknown> {
    await this.ready;
    if (!this.alive) throw runtimeExited(this.child.exitCode, this.child.signalCode);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ id, event })}\n`);
    });
  }

  /** Whether the process still runs (a dead host answers every invocation with `Lambda.Unknown`). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * SIGKILL, as a container dies mid-invocation: its invocations in flight fail with
   * `Lambda.Unknown`. Resolves once the process is gone and those invocations are answered.
   */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const closed = new Promise((resolve) => this.child.once('close', resolve));
    this.child.kill('SIGKILL');
    await closed;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
    await exited;
  }
}

/**
 * A function's execution environments as Lambda manages them, one at a time: a warm
 * {@link BundleHost} serving one invocation at a time (as a container does); when it dies, the
 * invocation in it fails with `Lambda.Unknown` and the next invocation gets a new host with the
 * same bundle and environment (a cold start), as Lambda replaces a lost container.
 */
export class LambdaContainers {
  private host: BundleHost;
  private queue: Promise<unknown> = Promise.resolve();
  private count = 1;

  constructor(private readonly startHost: () => BundleHost) {
    this.host = startHost();
  }

  /** Hosts started so far: the first and every replacement. */
  get started(): number {
    return this.count;
  }

  /** The Node version of the current host, once it has loaded. */
  nodeVersion(): Promise<string> {
    return this.host.nodeVersion();
  }

  /**
   * One invocation, after those before it: invocations queued behind one whose host died run in
   * the replacement, as they would in another container.
   */
  invoke(event: unknown): Promise<unknown> {
    const run = this.queue.then(() => this.live().invoke(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Kills the current host (SIGKILL) mid-invocation; the next invocation starts a new one. */
  crash(): Promise<void> {
    return this.host.kill();
  }

  stop(): Promise<void> {
    return this.host.stop();
  }

  private live(): BundleHost {
    if (!this.host.alive) {
      this.host = this.startHost();
      this.count++;
    }
    return this.host;
  }
}
