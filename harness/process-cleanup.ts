import type { ChildProcess } from 'node:child_process';

/**
 * Stopping what this process started: {@link stopChild} for an orderly stop of one child, and
 * synchronous clean-ups (stop a local server, tear down a cluster) that run however this process
 * ends: a normal exit, Ctrl-C (SIGINT) or a kill (SIGTERM). Newest first.
 */
const cleanups = new Set<() => void>();
let installed = false;
let cleaning = false;

/** Registers a clean-up and returns the function that unregisters it. */
export function registerCleanup(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

function runAll(): void {
  if (cleaning) return;
  cleaning = true;
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // keep cleaning up the rest
    }
  }
  cleanups.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  // `on`, not `once`: a second signal during clean-up (tsx forwards one, a user presses Ctrl-C
  // twice) must not fall back to the default action and kill the process half-way.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (cleaning) return;
      runAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/**
 * Stops `child`: SIGTERM, so a server can shut down cleanly, then SIGKILL if it has not exited
 * within `graceMs` (a server stuck in shutdown must not hang the caller). Resolves once it has
 * exited; at once if it already had, or never started (a failed spawn emits no 'exit').
 * @example await stopChild(child, 3000)
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
