import { createServer } from 'node:net';

/**
 * A local port nothing listens on right now, for a child server (moto, a database, toxiproxy, Argo
 * Rollouts' health port). The child may still lose a race for it: callers that start one retry.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
