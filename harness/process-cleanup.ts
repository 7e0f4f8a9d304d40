/**
 * Synchronous clean-ups (stop a local server, tear down a cluster) that run however this process
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
