import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts, pickRange, startOnFreePorts } from '../../harness/free-port';
import { loopbackListeners } from '../support/loopback-listeners';

const dir = mkdtempSync(join(tmpdir(), 'free-port-'));
function rangeFile(text: string): string {
  const file = join(dir, `range-${Math.random()}`);
  writeFileSync(file, text);
  return file;
}

const listenOn = loopbackListeners();

describe('pickRange', () => {
  it('draws below the ephemeral range, where no outgoing connection takes a port', () => {
    expect(pickRange(rangeFile('32768\t60999\n'))).toEqual([10_000, 32_767]);
    expect(pickRange(rangeFile('49152 65535'))).toEqual([10_000, 49_151]);
  });

  it('leaves the pick to the kernel when the ephemeral range leaves no room below it, or is unknown', () => {
    expect(pickRange(rangeFile('1024 65535'))).toBeUndefined();
    expect(pickRange(rangeFile('garbage'))).toBeUndefined();
    expect(pickRange(join(dir, 'missing'))).toBeUndefined();
  });
});

describe('freePorts', () => {
  it('gives distinct ports inside the range, each bindable', async () => {
    const ports = await freePorts(8, [20_000, 20_999]);
    expect(new Set(ports).size).toBe(8);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThanOrEqual(20_999);
      expect(await listenOn(port)).toBe(port);
    }
  });

  it('never gives a port something listens on, nor one it gave moments ago', async () => {
    const held = await listenOn(0);
    await expect(freePorts(1, [held, held])).rejects.toThrow(/no 1 free local ports/);
    const [given] = await freePorts(1, [21_000, 21_000]);
    expect(given).toBe(21_000);
    await expect(freePorts(1, [21_000, 21_000])).rejects.toThrow(/no 1 free local ports/);
  });

  it('asks the kernel when there is no range', async () => {
    const [port] = await freePorts(1, undefined);
    expect(port).toBeGreaterThan(0);
  });
});

describe('startOnFreePorts', () => {
  it('starts again on new ports when a start fails, and answers the first that succeeds', async () => {
    const tried: number[][] = [];
    const started = await startOnFreePorts('server', 2, async (ports) => {
      tried.push(ports);
      if (tried.length < 3) throw new Error(`lost port ${ports[0]}`);
      return ports;
    });
    expect(tried).toHaveLength(3);
    expect(started).toEqual(tried[2]);
    expect(new Set(tried.flat()).size).toBe(6);
  });

  it('gives up after the last attempt, naming the server and the last failure', async () => {
    let calls = 0;
    const start = startOnFreePorts(
      'toxiproxy-server',
      1,
      async () => {
        calls += 1;
        throw new Error(`attempt ${calls} failed`);
      },
      2,
    );
    await expect(start).rejects.toThrow('toxiproxy-server did not start in 2 attempts: attempt 2 failed');
    expect(calls).toBe(2);
  });
});
