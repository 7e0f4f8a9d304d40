import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, pickRange } from '../../harness/free-port';

const dir = mkdtempSync(join(tmpdir(), 'free-port-'));
function rangeFile(text: string): string {
  const file = join(dir, `range-${Math.random()}`);
  writeFileSync(file, text);
  return file;
}

const listeners: Server[] = [];
async function listenOn(port: number): Promise<number> {
  const server = createServer();
  listeners.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : -1;
}
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

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
