/** Free TCP ports on the loopback interface, for servers a test or a tool starts. */
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * `count` distinct free ports: every listener stays open until all are chosen (ports taken one
 * at a time may repeat, since each is free again once its listener closes).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'));
  try {
    return await Promise.all(
      servers.map(async (server) => {
        if (!server.listening) await once(server, 'listening');
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('no free port');
        return address.port;
      }),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** One free port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}
