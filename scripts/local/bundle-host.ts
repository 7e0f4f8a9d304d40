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
      this.child.on('exit', (code) => {
        const error = new Error(`bundle host for ${functionName} exited (${code})`);
        reject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
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
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ id, event })}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
    await exited;
  }
}
