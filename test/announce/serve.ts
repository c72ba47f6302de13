/** Serves routers on 127.0.0.1 behind the same kind of express app the product uses. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(...routers: Router[]): Promise<Served> {
  const app = express();
  app.set('trust proxy', false);
  for (const router of routers) app.use('/', router);
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
