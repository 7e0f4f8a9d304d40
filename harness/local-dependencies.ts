/**
 * What the local environment needs beyond npm packages (moto's Python, PostgreSQL and MariaDB),
 * installed and cached outside the clone by scripts/lib/ensure-deps.sh. The test command and the
 * demo source that script before starting Node; a benchmark started on its own (`npm run bench:*`)
 * calls this first, so it works on a fresh machine too.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What ensure-deps.sh exports for the local environment's servers. */
export type LocalDependency = 'MOTO_PYTHON' | 'ROTATOR_POSTGRES_BIN' | 'ROTATOR_MARIADBD';

/**
 * Sets those of `names` that are not set in this process from scripts/lib/ensure-deps.sh (which
 * installs what is missing, its progress on stderr); one the caller set is left as it is, and
 * nothing runs when all are set. Throws when the script fails; its output is on stderr above.
 */
export function ensureLocalDependencies(
  names: readonly LocalDependency[],
  log: (line: string) => void,
): void {
  const unset = names.filter((name) => !process.env[name]);
  if (unset.length === 0) return;
  log(
    `set-up: sourcing scripts/lib/ensure-deps.sh for ${unset.join(', ')} (it installs whatever of moto, PostgreSQL and MariaDB is missing)`,
  );
  const script = `source scripts/lib/ensure-deps.sh && printf '%s\\0' ${unset.map((n) => `"$${n}"`).join(' ')}`;
  let printed: string[];
  try {
    printed = execFileSync('bash', ['-c', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).split('\0');
  } catch (error) {
    throw new Error('scripts/lib/ensure-deps.sh failed (its output is above)', { cause: error });
  }
  unset.forEach((name, i) => {
    process.env[name] = printed[i];
  });
}
