import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';

/**
 * Runs the kubectl built with the global local cluster, as its admin, and returns its stdout. The
 * binary is read from the cluster's state directory (`env`, beside the admin kubeconfig), as
 * harness/local-cluster.ts reads it; the machine's kubectl may be absent or another version.
 * @example kubectl(['apply', '-f', '-'], JSON.stringify(manifest))
 */
export function kubectl(args: readonly string[], input?: string): string {
  const kubeconfig = inject('kubeconfig');
  const env = readFileSync(join(dirname(kubeconfig), 'env'), 'utf8');
  const binary = /^export ROTATOR_KUBECTL="(.*)"$/m.exec(env)?.[1] ?? 'kubectl';
  return execFileSync(binary, ['--kubeconfig', kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
