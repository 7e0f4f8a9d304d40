import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../harness/free-port';

const SCRIPTS = fileURLToPath(new URL('../../scripts/cluster/', import.meta.url));
const states: string[] = [];
const listeners: Server[] = [];

afterAll(async () => {
  for (const state of states) spawnSync('bash', [join(SCRIPTS, 'down.sh'), state], { stdio: 'ignore' });
  await Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
});

/**
 * scripts/cluster/up.sh when a port it picked is taken before its component binds it: the CI run
 * of 2043a26 lost etcd's port to another process, and the API server then waited 90 s for an etcd
 * that had exited. Now the start is tried again on new ports, and a component that exits ends the
 * wait at once.
 */
describe('starting the local cluster when a picked port is taken', () => {
  it("starts again on new ports when etcd's port is taken, and comes up", async () => {
    const ports = await freePorts(4);
    const [etcdPort] = ports;
    const holder = createServer();
    listeners.push(holder);
    await new Promise<void>((resolve) => holder.listen(etcdPort, '127.0.0.1', resolve));
    const state = mkdtempSync(join(tmpdir(), 'rotator-cluster-'));
    states.push(state);

    const started = Date.now();
    const run = spawnSync('bash', [join(SCRIPTS, 'up.sh'), state], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ROTATOR_CLUSTER_FIRST_PORTS: ports.join(' '),
        // ESO starts against it but is never asked to read: the test is about the start.
        AWS_SECRETSMANAGER_ENDPOINT: 'http://127.0.0.1:1',
      },
      timeout: 180_000,
    });
    const seconds = (Date.now() - started) / 1000;

    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`starting etcd on 127.0.0.1:${etcdPort}`);
    expect(run.stderr).toMatch(/etcd exited while waiting for .*address already in use/);
    expect(run.stderr).toContain('starting again on new ports (attempt 2 of 3)');
    const etcdStarts = [...run.stderr.matchAll(/starting etcd on 127\.0\.0\.1:(\d+)/g)].map((m) =>
      Number(m[1]),
    );
    expect(etcdStarts).toHaveLength(2);
    expect(etcdStarts[1]).not.toBe(etcdPort);
    // The cluster it reports is the second attempt's, and it answers.
    const env = readFileSync(join(state, 'env'), 'utf8');
    const server = /ROTATOR_CLUSTER_SERVER="(.*)"/.exec(env)?.[1];
    expect(server).not.toContain(`:${ports[2]}`);
    const kubectl = /ROTATOR_KUBECTL="(.*)"/.exec(env)?.[1] ?? 'kubectl';
    const ready = spawnSync(kubectl, ['--kubeconfig', join(state, 'kubeconfig'), 'get', '--raw', '/readyz'], {
      encoding: 'utf8',
    });
    expect(ready.stdout.trim()).toBe('ok');
    // The first attempt gave up when etcd exited, not after the 90 s readiness wait.
    expect(seconds).toBeLessThan(90);
  }, 200_000);

  it('refuses ports that are not four numbers, before starting anything', () => {
    const state = mkdtempSync(join(tmpdir(), 'rotator-cluster-'));
    states.push(state);
    const run = spawnSync('bash', [join(SCRIPTS, 'up.sh'), state], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ROTATOR_CLUSTER_FIRST_PORTS: '2379 2380',
        AWS_SECRETSMANAGER_ENDPOINT: 'http://127.0.0.1:1',
      },
      timeout: 120_000,
    });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain("expected 4 ports, got '2379 2380'");
    expect(run.stderr).not.toContain('starting etcd');
  }, 130_000);
});
