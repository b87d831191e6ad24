/**
 * The listener: a Hono app behind a Node HTTP server. Separate from the app so that tests can use the app
 * without a socket, and a real socket on 127.0.0.1 port 0 when they need one (streaming, big bodies).
 *
 * Closing stops accepting, lets requests in flight finish for up to `graceMs`, then cuts what is left (a
 * live stream never ends on its own; the app's `close()` ends those first).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface Listening {
  host: string;
  port: number;
  /** `http://host:port` */
  url: string;
  close(graceMs?: number): Promise<void>;
}

export async function listen<E extends object>(
  app: Hono<E & {}>,
  host: string,
  port: number,
): Promise<Listening> {
  const server = serve({ fetch: app.fetch, hostname: host, port });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    host: addr.address,
    port: addr.port,
    url: `http://${shown}:${addr.port}`,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const http = server as import('node:http').Server;
        const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
        timer.unref();
        http.close(() => {
          clearTimeout(timer);
          resolve();
        });
        http.closeIdleConnections?.();
      }),
  };
}
