import { createServer, type Server } from 'node:net';
import { afterEach } from 'vitest';

/**
 * For a test file: `listenOn(port)` binds a TCP listener on 127.0.0.1:`port` (0: the kernel picks)
 * and answers the bound port; every listener is closed after each test.
 * @example const listenOn = loopbackListeners(); await listenOn(port);
 */
export function loopbackListeners(): (port: number) => Promise<number> {
  const listeners: Server[] = [];
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  return async (port) => {
    const server = createServer();
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : -1;
  };
}
