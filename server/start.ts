/**
 * Starts a server from a config: opens and migrates the database, makes the demo user of a
 * new install, listens, and stops gracefully (in-flight pushes finish, then the pool closes).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pg from 'pg';
import { createApp } from './app';
import { migrateLatest, openDatabase, type Database } from './db';
import type { Config } from './env';
import { createLimiters } from './rate-limit';
import { ensureDemoUser } from './users';

export interface RunningServer {
  url: string;
  port: number;
  db: Database;
  server: Server;
  close: () => Promise<void>;
}

export async function startServer(config: Config, log: (line: string) => void = console.log): Promise<RunningServer> {
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SEMS_DATA_DIR, log });
  // Rate-limit counters in PostgreSQL, shared by every instance on the same database.
  const limiterPool = config.DATABASE_URL ? new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 }) : undefined;
  limiterPool?.on('error', () => {}); // an idle client lost with the database; the next query reports it

  let server: Server;
  try {
    await migrateLatest(db);
    if (config.NODE_ENV !== 'production') {
      const demo = await ensureDemoUser(db);
      if (demo) {
        log(`Created a demo user (shown once): username "${demo.username}", password "${demo.password}", site "${demo.siteId}"`);
      }
    }
    const app = createApp({ db, config, limiters: createLimiters(config, limiterPool), log });
    // Express 5 calls the listen callback with the error too (EADDRINUSE), not only on success.
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.PORT, config.HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    // A failed start (database unreachable, port taken) leaves no pool open behind it.
    await limiterPool?.end();
    await db.destroy();
    throw err;
  }
  server.keepAliveTimeout = 5000;
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then release the database.
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // A connection whose request finishes now turns idle but stays open for keepAliveTimeout,
      // holding up close(): sweep idle connections until every request is done.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_SECONDS * 1000).unref());
      await Promise.race([done, grace]);
      clearInterval(sweep);
      server.closeAllConnections();
      await limiterPool?.end();
      await db.destroy();
    })());

  return { url: `http://${config.HOST}:${port}`, port, db, server, close };
}
