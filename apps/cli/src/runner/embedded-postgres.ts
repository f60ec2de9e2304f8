import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedPostgres {
  /** A DATABASE_URL for the apps. */
  url: string;
  close(): Promise<void>;
}

/**
 * device-auth's database when no DATABASE_URL is set, so `npm start` needs nothing installed:
 * PGlite persisted under the data directory, served over the Postgres wire
 * protocol on a loopback port. PGlite has one session: pglite-socket multiplexes the
 * app's pooled connections onto it query by query, keeping an open transaction's
 * queries together, so the apps' pools (10 each in device-auth and room-gateway) need no change.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  // Loaded only when used: PGlite is large and most commands never need it.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create({ dataDir: dir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
