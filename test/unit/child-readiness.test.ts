import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { answersOk, listensOn, waitUntilReady } from '../../harness/child-readiness';
import { freePorts } from '../../harness/free-port';
import { loopbackListeners } from '../support/loopback-listeners';

const dir = mkdtempSync(join(tmpdir(), 'child-readiness-'));
const listenOn = loopbackListeners();

describe('waitUntilReady', () => {
  it('returns once the check answers yes while the child runs', async () => {
    let asked = 0;
    await waitUntilReady('moto', { exitCode: null }, async () => ++asked >= 2, 5_000);
    expect(asked).toBe(2);
  });

  it('refuses an answer that came after the child exited (another server on the port it lost)', async () => {
    const child: { exitCode: number | null } = { exitCode: null };
    const ready = async () => {
      child.exitCode = 1;
      return true;
    };
    await expect(waitUntilReady('moto', child, ready, 5_000)).rejects.toThrow('moto exited with code 1');
  });

  it('says a child killed by a signal exited, and a check that never answers yes timed out', async () => {
    const killed = { exitCode: null, signalCode: 'SIGKILL' as const };
    await expect(waitUntilReady('etcd', killed, async () => true, 5_000)).rejects.toThrow(
      'etcd exited with signal SIGKILL',
    );
    await expect(waitUntilReady('etcd', { exitCode: null }, async () => false, 250)).rejects.toThrow(
      'etcd was not ready within 250 ms',
    );
  });
});

describe('waitUntilReady with the port: only the child’s own socket counts', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  /** A node child that serves `ok` over HTTP on `port` after `delayMs`, and exits 1 if the port is taken. */
  function server(port: number, delayMs: number): ChildProcess {
    const code = `setTimeout(() => require('node:http').createServer((q, r) => r.end('ok')).on('error', () => process.exit(1)).listen(${port}, '127.0.0.1'), ${delayMs})`;
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    children.push(child);
    return child;
  }
  const httpServer = async (port: number) => {
    const { createServer: createHttp } = await import('node:http');
    const foreign = createHttp((_q, r) => r.end('foreign'));
    await new Promise<void>((resolve) => foreign.listen(port, '127.0.0.1', resolve));
    return foreign;
  };

  it('refuses another process’s server that answers while the child is still starting, then sees the child fail', async () => {
    const [port = 0] = await freePorts(1);
    const foreign = await httpServer(port);
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      const child = server(port, 800);
      const url = `http://127.0.0.1:${port}/`;
      expect(await answersOk(url)()).toBe(true);
      await expect(waitUntilReady('moto', child, answersOk(url), 10_000, port)).rejects.toThrow(
        'moto exited with code 1',
      );
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('accepts the child once it listens on the port itself', async () => {
    const [port = 0] = await freePorts(1);
    const child = server(port, 300);
    await waitUntilReady('toxiproxy-server', child, answersOk(`http://127.0.0.1:${port}/`), 10_000, port);
    expect(listensOn(child.pid as number, port)).toBe(true);
    expect(listensOn(process.pid, port)).toBe(false);
  });
});

describe('listensOn from a /proc it cannot fully read', () => {
  // A /proc with one LISTEN socket on port 0x1F90 (8080), inode 4242, owned by uid 65534, and a
  // process 77 (effective uid `uid`) whose fd folder holds socket:[4242] or nothing.
  function fakeProc(options: { uid: string; holds: boolean }): string {
    const proc = mkdtempSync(join(dir, 'proc-'));
    mkdirSync(join(proc, 'net'));
    const header =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row =
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 4242 1 0000000000000000 100 0 0 10 0\n';
    writeFileSync(join(proc, 'net', 'tcp'), header + row);
    mkdirSync(join(proc, '77', 'fd'), { recursive: true });
    writeFileSync(
      join(proc, '77', 'status'),
      `Name:\tpostgres\nUid:\t${options.uid}\t${options.uid}\t${options.uid}\t${options.uid}\n`,
    );
    symlinkSync(options.holds ? 'socket:[4242]' : 'pipe:[1]', join(proc, '77', 'fd', '3'));
    return proc;
  }
  const denied = () => {
    throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  };

  it('reads the fd links when it may', () => {
    expect(listensOn(77, 8080, fakeProc({ uid: '65534', holds: true }))).toBe(true);
    expect(listensOn(77, 8080, fakeProc({ uid: '65534', holds: false }))).toBe(false);
    expect(listensOn(77, 8081, fakeProc({ uid: '65534', holds: true }))).toBe(false);
  });

  it('without the links (another user, no CAP_SYS_PTRACE): another uid’s listener is not the child’s; its own uid’s cannot be told', () => {
    expect(listensOn(77, 8080, fakeProc({ uid: '0', holds: true }), denied)).toBe(false);
    expect(listensOn(77, 8080, fakeProc({ uid: '65534', holds: true }), denied)).toBeUndefined();
  });

  it('says why a wait timed out when the port answered for another process', async () => {
    const [port = 0] = await freePorts(1);
    await listenOn(port);
    // A live child that listens on nothing, beside this process's listener on the port.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10_000)'], { stdio: 'ignore' });
    try {
      await expect(waitUntilReady('moto', child, async () => true, 300, port)).rejects.toThrow(
        `moto was not ready within 300 ms: port ${port} answered, but its listening socket is not pid ${child.pid}'s`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
