import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree, getFreePort, LOCAL_HOST, PortInUseError } from '../../local/ports';

let server: Server | undefined;

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const listening = createServer();
    listening.once('error', reject);
    listening.listen(port, LOCAL_HOST, () => resolve(listening));
  });
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('getFreePort', () => {
  it('returns a port that a server can then listen on', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    server = await listen(port);
    const address = server.address();
    expect(typeof address === 'object' && address?.port).toBe(port);
  });
});

describe('assertPortFree', () => {
  it('resolves for a port nothing listens on', async () => {
    const port = await getFreePort();
    await expect(assertPortFree(port)).resolves.toBeUndefined();
  });

  it('names the port when something already listens on it', async () => {
    server = await listen(0);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');

    const failure = assertPortFree(address.port);

    await expect(failure).rejects.toBeInstanceOf(PortInUseError);
    await expect(failure).rejects.toThrow(`port ${address.port} is already in use`);
  });
});
