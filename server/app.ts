/**
 * Builds the Express app from its dependencies; start.ts listens. Handlers stay thin: parse
 * with the shared zod schemas, call a domain function, send JSON, pass failures to next().
 */
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Knex } from 'knex';
import { listQuerySchema, loginRequestSchema, totalsQuerySchema } from '../schemas/api';
import { dispenseShape } from '../schemas/dispense';
import { exportQuerySchema } from '../schemas/devices';
import { mountAccessRoutes } from './access-routes';
import { configurePassport, login, requireAdmin, requireAuth } from './auth';
import { isDatabaseUp, migrationsCurrent } from './db';
import { deviceIdOf } from './devices';
import type { Config } from './env';
import { AppError, errorBody, errorMiddleware } from './errors';
import { exportFileName, writeExport } from './export';
import { createLogger, requestLog, type Logger } from './logging';
import { createMetrics, type Metrics } from './metrics';
import { fhirRoutes } from './fhir/routes';
import { consume, RateLimited, type Limiters } from './rate-limit';
import { dispenseTotals, getDispense, listDispenses } from './records';
import { mountSyncRoutes } from './sync-routes';

export interface AppDeps {
  db: Knex;
  config: Config;
  limiters: Limiters;
  logger?: Logger;
  metrics?: Metrics;
}

/** Compares a presented secret with the expected one in constant time. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApp({ db, config, limiters, logger = createLogger(config), metrics = createMetrics(db) }: AppDeps): express.Express {
  const app = express();
  const auth = configurePassport(config);
  const signedIn = requireAuth(auth, db);
  const apiLimit: RequestHandler = (req, _res, next) => consume(limiters.api, String(req.user!.id), 'Too many requests.').then(() => next(), next);

  // Every failure, before it is answered: a rate limit's refusal is counted by limit.
  const onFailure = (err: unknown) => {
    if (err instanceof RateLimited) metrics.limited(err.limit);
  };

  app.disable('x-powered-by');
  // Which proxies' X-Forwarded-For to believe: the login limiter keys on the client's address.
  app.set('trust proxy', /^\d+$/.test(config.TRUST_PROXY) ? Number(config.TRUST_PROXY) : config.TRUST_PROXY);
  // HSTS and CSP's upgrade-insecure-requests only on secure requests (TLS here, or https at a
  // trusted proxy): on plain http (http://<lan-name>:3000/) the upgrade sends every script and
  // stylesheet to an https that does not exist, and the app is a blank page.
  const secureHeaders = helmet();
  const plainHeaders = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    strictTransportSecurity: false,
  });
  app.use((req, res, next) => (req.secure ? secureHeaders : plainHeaders)(req, res, next));
  // One JSON line per request (id, route, status, duration, user, site) and its metrics.
  app.use(requestLog(logger, metrics));
  // Bodies are parsed per route, after the token check: an anonymous caller cannot make the
  // server parse megabytes.
  const smallJson = express.json({ limit: '16kb' });

  // Liveness: the process answers (and says whether the database does).
  app.get('/api/health', async (_req, res) => {
    const up = await isDatabaseUp(db);
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'degraded', database: up ? 'up' : 'down' });
  });

  // Readiness, for load balancers: send traffic only when the database answers and its
  // migrations are this version's (an instance started against an older schema is not ready).
  app.get('/api/ready', async (_req, res) => {
    const up = await isDatabaseUp(db);
    const current = up && (await migrationsCurrent(db).catch(() => false));
    res
      .status(current ? 200 : 503)
      .json({ status: current ? 'ready' : 'not_ready', database: up ? 'up' : 'down', migrations: current ? 'current' : up ? 'behind' : 'unknown' });
  });

  // Metrics for Prometheus, behind their own bearer token; no token configured: no such route
  // (answered here, or the single-page app's fallback would answer it).
  if (!config.METRICS_TOKEN) {
    app.get('/metrics', () => {
      throw new AppError(404, 'not_found', 'No such route');
    });
  } else {
    const expected = `Bearer ${config.METRICS_TOKEN}`;
    app.get('/metrics', async (req, res) => {
      if (!sameSecret(req.header('authorization') ?? '', expected)) throw new AppError(401, 'token_invalid', 'Metrics need the metrics bearer token');
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    });
  }

  app.post('/api/auth/login', smallJson, async (req, res) => {
    const body = loginRequestSchema.parse(req.body);
    try {
      res.json(await login(db, config, limiters, body, { ip: req.ip ?? 'unknown', deviceId: deviceIdOf(req) }));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_credentials') metrics.loginFailed();
      throw err;
    }
  });

  // Staff, sessions, password changes, lost devices and the admin log (server/access-routes.ts).
  mountAccessRoutes(app, { db, config, limiters, auth, apiLimit, smallJson });

  app.get('/api/auth/me', signedIn, apiLimit, (req, res) => {
    res.json(req.user);
  });

  // Push, pull, devices and the sync status (server/sync-routes.ts).
  mountSyncRoutes(app, { db, config, limiters, auth, signedIn, apiLimit, smallJson, metrics });

  app.get('/api/dispenses', signedIn, apiLimit, async (req, res) => {
    res.json(await listDispenses(db, req.user!.siteId, listQuerySchema.parse(req.query)));
  });

  // The site's totals per medication for a day or a shift, for its pharmacists and admins.
  app.get('/api/dispenses/totals', signedIn, apiLimit, async (req, res) => {
    const { from, to } = totalsQuerySchema.parse(req.query);
    res.json(await dispenseTotals(db, req.user!.siteId, from, to));
  });

  // The site's dispensing log for a period, streamed page by page (server/export.ts).
  app.get('/api/dispenses/export.csv', signedIn, apiLimit, requireAdmin, async (req, res) => {
    const { from, to } = exportQuerySchema.parse(req.query);
    const name = exportFileName(req.user!.siteId, { from: String(req.query.from), to: String(req.query.to) }, { from, to });
    res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    res.setHeader('Cache-Control', 'no-store');
    try {
      await writeExport(db, req.user!.siteId, from, to, res);
      res.end();
    } catch (err) {
      // Once rows are sent the status cannot change: cut the download so it is not taken as whole.
      if (!res.headersSent) throw err;
      res.destroy(err as Error);
    }
  });

  app.get('/api/dispenses/:externalId', signedIn, apiLimit, async (req, res) => {
    const id = String(req.params.externalId).toLowerCase(); // ids are stored in lower case
    // Checked as the record's own id rule, so a near-UUID is a 404 rather than a failed cast (500).
    const found = dispenseShape.externalId.safeParse(id).success ? await getDispense(db, req.user!.siteId, id) : undefined;
    // Another site's record answers exactly like a missing one.
    if (!found) throw new AppError(404, 'not_found', 'No such record at your site');
    res.json(found);
  });

  app.use('/api', (_req, res) => {
    res.status(404).json(errorBody('not_found', 'No such API route'));
  });

  // FHIR R4, read-only (server/fhir/routes.ts): answers and failures in FHIR's own shapes, never the app's HTML.
  app.use('/fhir', fhirRoutes({ db, signedIn, apiLimit, onFailure }));

  // The built client, same origin as the API; any other path is the single-page app.
  const clientDir = path.resolve(config.CLIENT_DIST);
  if (fs.existsSync(path.join(clientDir, 'index.html'))) {
    app.use(express.static(clientDir, { index: false, maxAge: '1h' }));
    app.get(/^\/(?!api\/).*/, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  }

  app.use(errorMiddleware(onFailure));
  return app;
}
