import { setTimeout as sleep } from 'node:timers/promises';

/** A username and password, as a pod's environment holds them. */
export interface Credential {
  readonly username: string;
  readonly password: string;
}

export interface ConsumerOptions {
  /** The credential the consumer's Kubernetes Secret holds now (read when it starts and on each restart). */
  readonly readCredential: () => Promise<Credential>;
  /** The Deployment's restart marker (its pod template's restartedAt annotation), if any. */
  readonly readRestartMarker: () => Promise<string | undefined>;
  /** Opens a new connection with the credential, runs a query and closes it: whether that worked. */
  readonly login: (credential: Credential) => Promise<boolean>;
  /** Between two connection starts. @default 5 ms */
  readonly intervalMs?: number;
  /** At most this many connections open at once (a slow login delays the next). @default 4 */
  readonly maxInFlight?: number;
  /** Between two reads of the restart marker. @default 50 ms */
  readonly markerPollMs?: number;
}

/** What the consumer saw: every attempt with its start time and result, and its restarts. */
export interface ConsumerReport {
  readonly tried: number;
  readonly failed: number;
  /** From the first connection's start to the end of the last one. */
  readonly durationMs: number;
  /** Start times (ms since the epoch) of the first and last failed attempt, when any failed. */
  readonly firstFailureAt?: number;
  readonly lastFailureAt?: number;
  /** Times the consumer saw a new restart marker and took the Secret's credential again. */
  readonly restartsAt: readonly number[];
  /** The usernames it connected with, in the order it took them up. */
  readonly usernames: readonly string[];
  /** Attempts started in [`from`, `to`) (ms since the epoch), and how many of them failed. */
  triedBetween(from: number, to?: number): { readonly tried: number; readonly failed: number };
}

/**
 * A database client as a pod of a Deployment would be, run in the test process: it keeps opening
 * new connections (one every `intervalMs`) with the credential its Kubernetes Secret held when it
 * (re)started, and takes the Secret's credential again when the Deployment's restart marker
 * changes, as a restarted pod gets the Secret anew through its environment. Counts every attempt.
 * @example const c = startConsumer({ readCredential, readRestartMarker, login }); …; const report = await c.stop();
 */
export function startConsumer(options: ConsumerOptions) {
  const { intervalMs = 5, maxInFlight = 4, markerPollMs = 50 } = options;
  const attempts: { at: number; ok: boolean }[] = [];
  const restartsAt: number[] = [];
  const usernames: string[] = [];
  let running = true;
  const startedAt = Date.now();

  const started = (async () => {
    let credential = await options.readCredential();
    let marker = await options.readRestartMarker();
    usernames.push(credential.username);
    const watcher = (async () => {
      while (running) {
        await sleep(markerPollMs);
        const now = await options.readRestartMarker();
        if (now === marker) continue;
        marker = now;
        credential = await options.readCredential();
        restartsAt.push(Date.now());
        if (usernames.at(-1) !== credential.username) usernames.push(credential.username);
      }
    })();
    const inFlight = new Set<Promise<void>>();
    while (running) {
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const at = Date.now();
      const attempt = options.login(credential).then((ok) => {
        attempts.push({ at, ok });
        inFlight.delete(attempt);
      });
      inFlight.add(attempt);
      await sleep(intervalMs);
    }
    await Promise.all([watcher, ...inFlight]);
  })();

  return {
    /** Stops connecting, waits for the connections under way and returns what was seen. */
    async stop(): Promise<ConsumerReport> {
      running = false;
      await started;
      const failures = attempts.filter((a) => !a.ok).map((a) => a.at);
      return {
        tried: attempts.length,
        failed: failures.length,
        durationMs: Date.now() - startedAt,
        firstFailureAt: failures.length > 0 ? Math.min(...failures) : undefined,
        lastFailureAt: failures.length > 0 ? Math.max(...failures) : undefined,
        restartsAt,
        usernames,
        triedBetween: (from, to = Number.POSITIVE_INFINITY) => {
          const within = attempts.filter((a) => a.at >= from && a.at < to);
          return { tried: within.length, failed: within.filter((a) => !a.ok).length };
        },
      };
    },
  };
}
