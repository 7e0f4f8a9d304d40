import { formatDuration } from './time-format';

/** Where progress goes: stderr, so stdout holds only results. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressLineOptions {
  readonly stream: ProgressStream;
  /** Milliseconds clock, injectable for tests. @default performance.now */
  readonly now?: () => number;
  /** Without a TTY: a line when the message changes, else at most one every this often. @default 10 s */
  readonly intervalMs?: number;
  /** Redraw on its own timer (spinner on a TTY, heartbeat otherwise). @default true */
  readonly timer?: boolean;
}

export interface ProgressLine {
  /** The current stage, e.g. `rotation: AWSPENDING on 2a20bf7b`; elapsed time is added. */
  update(message: string): void;
  /** Stops redrawing and prints `message` on a line of its own. */
  done(message: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 120;
const CLEAR_LINE = '\r\u001b[2K';

/**
 * A progress line for long waits. On a TTY it rewrites itself (spinner, message, elapsed time);
 * otherwise, for CI logs, it prints a plain line when the message changes and one every
 * `intervalMs` while it does not.
 */
export function createProgressLine(options: ProgressLineOptions): ProgressLine {
  const now = options.now ?? (() => performance.now());
  const tty = options.stream.isTTY === true;
  const interval = options.intervalMs ?? 10_000;
  const started = now();
  let message: string | undefined;
  let printed: { message: string; at: number } | undefined;
  let frame = 0;
  const elapsed = () => formatDuration(now() - started);

  const render = () => {
    if (message === undefined) return;
    if (tty) {
      frame = (frame + 1) % FRAMES.length;
      options.stream.write(`${CLEAR_LINE}${FRAMES[frame]} ${message} (${elapsed()})`);
    } else if (printed?.message !== message || now() - printed.at >= interval) {
      options.stream.write(`${message} (${elapsed()})\n`);
      printed = { message, at: now() };
    }
  };
  const timer =
    options.timer === false ? undefined : setInterval(render, tty ? SPIN_MS : Math.min(interval, 1000));
  timer?.unref();

  return {
    update(next) {
      message = next;
      render();
    },
    done(final) {
      if (timer) clearInterval(timer);
      options.stream.write(`${tty ? CLEAR_LINE : ''}${final}\n`);
    },
  };
}
