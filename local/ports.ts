import { createServer } from 'node:net';

/** Loopback host that local services are checked and reached on. */
export const LOCAL_HOST = '127.0.0.1';

/**
 * Asks the OS for a port that is free right now on `host` (binds port 0, reads
 * the port, closes). Another process may still take it before the caller binds
 * it; prefer binding port 0 directly when the server allows it.
 */
export async function getFreePort(host: string = LOCAL_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/** Thrown by {@link assertPortFree} when something already listens on the port. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(`port ${port} is already in use (on ${host}); stop what uses it or choose another port`);
  }
}

/**
 * Resolves if `port` can be bound on `host`, so that `npm start` can fail with a
 * clear message before starting anything, instead of a bare EADDRINUSE later.
 *
 * @throws PortInUseError when the port is taken.
 */
export async function assertPortFree(port: number, host: string = LOCAL_HOST): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, host) : error);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close((error) => (error ? reject(error) : resolve()));
    });
  });
}
