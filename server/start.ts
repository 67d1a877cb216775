/**
 * Starts a server from a config: opens and migrates the database, makes the demo user of a
 * new install on the embedded database, listens (HTTPS when TLS files are configured, with an optional plain-http port
 * that only redirects), and stops gracefully (in-flight pushes finish, then the pool closes).
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import { createApp } from './app';
import { migrateLatest, openDatabase, type Database } from './db';
import type { Config } from './env';
import { createLogger, type Logger } from './logging';
import { createLimiters } from './rate-limit';
import { ensureDemoUser } from './users';

/** http.Server or https.Server: both have the connection methods close() uses. */
export type Server = http.Server | https.Server;

export interface RunningServer {
  /** http://host:port, or https://host:port when the server serves TLS. */
  url: string;
  port: number;
  /** The plain-http port that redirects to HTTPS, when HTTP_REDIRECT_PORT is set. */
  redirectPort?: number;
  db: Database;
  server: Server;
  logger: Logger;
  close: () => Promise<void>;
}

/** Reads the certificate and key named by the config; a missing or unusable one stops the start. */
function readTls(config: Config): tls.SecureContextOptions | undefined {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  const read = (field: 'TLS_CERT_FILE' | 'TLS_KEY_FILE') => {
    const file = config[field]!;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${field}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const options = { cert: read('TLS_CERT_FILE'), key: read('TLS_KEY_FILE') };
  try {
    tls.createSecureContext(options); // not PEM, or a key of another certificate: say so now, not at the first visitor
  } catch (err) {
    throw new Error(`TLS_CERT_FILE, TLS_KEY_FILE: not a usable certificate and key (${(err as Error).message})`, { cause: err });
  }
  return options;
}

/** A host name as a Host header may carry it (name, IPv4, or [IPv6]), without the port. */
const HOST_NAME = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/;

/** Answers every plain-http request with a 308 to the same host name, path and query over HTTPS. */
function redirectToHttps(httpsPort: number): http.RequestListener {
  return (req, res) => {
    const host = HOST_NAME.exec(req.headers.host ?? '');
    if (!host) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('A Host header is required\n');
      return;
    }
    const { pathname, search } = new URL(req.url ?? '/', 'http://any'); // an absolute-form target keeps only its path
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    res.writeHead(308, { location: `https://${host[1]}${port}${pathname}${search}`, 'content-length': '0' }).end();
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startServer(config: Config, logger: Logger = createLogger(config)): Promise<RunningServer> {
  const tlsOptions = readTls(config); // before the database, so a bad file leaves nothing open
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SEMS_DATA_DIR, log: (line) => logger.warn(line) });
  // Rate-limit counters in PostgreSQL, shared by every instance on the same database.
  const limiterPool = config.DATABASE_URL ? new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 }) : undefined;
  limiterPool?.on('error', () => {}); // an idle client lost with the database; the next query reports it

  let server: Server | undefined;
  let redirect: http.Server | undefined;
  try {
    await migrateLatest(db);
    // The demo user is for trying the app on the embedded database: never on a real PostgreSQL,
    // where its password would sit in the log of a server that others reach.
    if (config.NODE_ENV !== 'production' && db.embedded) {
      const demo = await ensureDemoUser(db);
      if (demo) {
        // The password goes to a file only this system user can read, never to the log (logs are shipped and kept).
        const file = path.resolve(config.SEMS_DATA_DIR, 'demo-user.txt');
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, `username: ${demo.username}\npassword: ${demo.password}\nsite: ${demo.siteId}\n`, { mode: 0o600 });
        logger.info(
          `Created a demo user "${demo.username}" at site "${demo.siteId}"; its password is in ${file} (readable by this system user only)`,
        );
      }
    }
    const app = createApp({ db, config, limiters: createLimiters(config, limiterPool), logger });
    server = tlsOptions ? https.createServer(tlsOptions, app) : http.createServer(app);
    await listen(server, config.PORT, config.HOST);
    if (config.HTTP_REDIRECT_PORT !== undefined) {
      redirect = http.createServer(redirectToHttps((server.address() as AddressInfo).port));
      await listen(redirect, config.HTTP_REDIRECT_PORT, config.HOST);
    }
  } catch (err) {
    // A failed start (database unreachable, port taken) leaves no listener or pool open behind it.
    if (server?.listening) await new Promise((resolve) => server!.close(resolve));
    await limiterPool?.end();
    await db.destroy();
    throw err;
  }
  server.keepAliveTimeout = 5000;
  const port = (server.address() as AddressInfo).port;
  const redirectPort = redirect && (redirect.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish (bounded), then release the database.
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // A redirect holds no work in flight: close it and its connections at once.
      const redirected = redirect && new Promise<void>((resolve) => redirect!.close(() => resolve()));
      redirect?.closeAllConnections();
      // A connection whose request finishes now turns idle but stays open for keepAliveTimeout,
      // holding up close(): sweep idle connections until every request is done.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_SECONDS * 1000).unref());
      await Promise.race([done, grace]);
      clearInterval(sweep);
      server.closeAllConnections();
      await redirected;
      await limiterPool?.end();
      await db.destroy();
    })());

  const scheme = tlsOptions ? 'https' : 'http';
  return { url: `${scheme}://${config.HOST}:${port}`, port, redirectPort, db, server, logger, close };
}
