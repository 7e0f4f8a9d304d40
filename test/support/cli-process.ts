import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROTATOR = fileURLToPath(new URL('../../bin/rotator.mjs', import.meta.url));
const SHIFTED_CLOCK = fileURLToPath(new URL('../../harness/shifted-clock.mjs', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI (`node bin/rotator.mjs`) in a child process against a local AWS endpoint, as an
 * operator would: `--endpoint-url` on the command line, moto's credentials in the environment, and
 * nothing else of this process's environment (no AWS_ENDPOINT_URL, no profile).
 */
export async function runRotator(
  args: readonly string[],
  options: { endpoint: string; env?: Record<string, string>; clockOffsetMs?: number },
): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...options.env,
    ...(options.clockOffsetMs ? { ROTATOR_TEST_CLOCK_OFFSET_MS: String(options.clockOffsetMs) } : {}),
  };
  const preload = options.clockOffsetMs ? ['--import', SHIFTED_CLOCK] : [];
  const argv = [...preload, ROTATOR, ...args, '--endpoint-url', options.endpoint];
  return promisify(execFile)(process.execPath, argv, { env, timeout: 90_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}
