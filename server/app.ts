/**
 * Builds the Express app from its dependencies; main.ts listens. Handlers stay thin: parse
 * with the shared zod schemas, call a domain function, send JSON, pass failures to next().
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Knex } from 'knex';
import { z } from 'zod';
import { listQuerySchema, loginRequestSchema, MAX_PUSH_ROWS, missingRequestSchema, pushRequestSchema, totalsQuerySchema } from '../schemas/api';
import { dispenseShape } from '../schemas/dispense';
import { DEVICE_ID, deviceReportSchema, exportQuerySchema } from '../schemas/devices';
import { checkToken, configurePassport, login, requireAdmin, requireAuth, userFound } from './auth';
import { isDatabaseUp } from './db';
import { listDevices, missingOfSite, noteDevicePush, reportDevice } from './devices';
import type { Config } from './env';
import { AppError, errorBody, errorMiddleware } from './errors';
import { writeExport } from './export';
import { parsePullQuery, pullDispenses } from './pull';
import { pushDispenses } from './push';
import { consume, type Limiters } from './rate-limit';
import { dispenseTotals, getDispense, listDispenses, syncStatus } from './records';

export interface AppDeps {
  db: Knex;
  config: Config;
  limiters: Limiters;
  log?: (line: string) => void;
}

/** The X-Device-Id header when it is a device id the server accepts, else null. */
function deviceIdOf(req: express.Request): string | null {
  const id = req.header('x-device-id');
  return id && DEVICE_ID.test(id) ? id : null;
}

// The push's envelope (a thousand rows), compiled ahead of time: same answers, same 400s.
const pushRequest = z.compile(pushRequestSchema);

export function createApp({ db, config, limiters, log = console.log }: AppDeps): express.Express {
  const app = express();
  const auth = configurePassport(config);
  const signedIn = requireAuth(auth, db);
  const apiLimit: RequestHandler = (req, _res, next) => consume(limiters.api, String(req.user!.id), 'Too many requests.').then(() => next(), next);

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
  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    const id = incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    if (config.LOG_LEVEL !== 'silent') {
      const start = process.hrtime.bigint();
      // Method, path, status and user id only: never bodies or query strings (patient data).
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        log(`${req.method} ${req.path} ${res.statusCode} ${ms.toFixed(1)}ms user=${req.user?.id ?? '-'} req=${id}`);
      });
    }
    next();
  });
  // Bodies are parsed per route, after the token check: an anonymous caller cannot make the
  // server parse megabytes.
  const smallJson = express.json({ limit: '16kb' });
  const pushJson = express.json({ limit: config.BODY_LIMIT });
  // 1000 ids of 36 characters, quoted and separated: about 39 kB.
  const idsJson = express.json({ limit: '64kb' });
  // While a push's body is read, its user is read and its rate-limit point taken (in PostgreSQL):
  // both round trips overlap the JSON parse. The answers keep their order (a bad token or a gone
  // user 401, a bad body 400 or 413, over the limit 429); a malformed push counts toward the limit.
  const pushBody: RequestHandler = (req, res, next) => {
    const budget = consume(limiters.push, String(res.locals.tokenUserId), 'Too many pushes.');
    budget.catch(() => {}); // awaited by the handler; a request refused first must not leave it unhandled
    res.locals.pushBudget = budget;
    pushJson(req, res, (bodyErr?: unknown) => userFound(req, res, (authErr?: unknown) => next(authErr ?? bodyErr)));
  };

  app.get('/api/health', async (_req, res) => {
    const up = await isDatabaseUp(db);
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'degraded', database: up ? 'up' : 'down' });
  });

  app.post('/api/auth/login', smallJson, async (req, res) => {
    const body = loginRequestSchema.parse(req.body);
    res.json(await login(db, config, limiters, body, req.ip ?? 'unknown'));
  });

  app.get('/api/auth/me', signedIn, apiLimit, (req, res) => {
    res.json(req.user);
  });

  app.post('/api/sync/dispenses/push', checkToken(auth, db), pushBody, async (req, res) => {
    const rows = (req.body as { rows?: unknown } | undefined)?.rows;
    if (Array.isArray(rows) && rows.length > MAX_PUSH_ROWS) {
      throw new AppError(413, 'batch_too_large', `A push takes at most ${MAX_PUSH_ROWS} rows; this one has ${rows.length}`);
    }
    const body = pushRequest.parse(req.body);
    await res.locals.pushBudget;
    const deviceId = deviceIdOf(req);
    const result = await pushDispenses(
      db,
      {
        user: req.user!,
        deviceId,
        requestId: res.locals.requestId as string,
        clockAheadLimitMs: config.CLOCK_AHEAD_LIMIT_MINUTES * 60_000,
      },
      body.rows,
    );
    if (deviceId) await noteDevicePush(db, { siteId: req.user!.siteId, deviceId, username: req.user!.username });
    res.json(result);
  });

  app.get('/api/sync/dispenses/pull', signedIn, apiLimit, async (req, res) => {
    const q = parsePullQuery(req.query);
    res.json(await pullDispenses(db, req.user!.siteId, q, config.PULL_WINDOW_DAYS));
  });

  // Devices and proof of delivery (server/devices.ts): each device reports after its sync runs.
  app.post('/api/sync/devices/report', signedIn, apiLimit, smallJson, async (req, res) => {
    const deviceId = deviceIdOf(req);
    if (!deviceId) throw new AppError(400, 'device_id_required', 'A device report needs the X-Device-Id header (1-64 letters, digits, . _ : -)');
    const report = deviceReportSchema.parse(req.body);
    res.json(await reportDevice(db, { siteId: req.user!.siteId, deviceId, username: req.user!.username }, report));
  });

  // After a restore from an older backup: which of the records a device made the site lacks (client/sync/resend.ts).
  app.post('/api/sync/dispenses/missing', signedIn, apiLimit, idsJson, async (req, res) => {
    const { externalIds } = missingRequestSchema.parse(req.body);
    res.json(await missingOfSite(db, req.user!.siteId, externalIds));
  });

  app.get('/api/sync/devices', signedIn, apiLimit, requireAdmin, async (req, res) => {
    res.json(await listDevices(db, req.user!.siteId));
  });

  app.get('/api/sync/status', signedIn, apiLimit, async (req, res) => {
    const settings = { pullWindowDays: config.PULL_WINDOW_DAYS, duplicateWindowHours: config.DUPLICATE_WINDOW_HOURS };
    res.json(await syncStatus(db, req.user!.siteId, settings));
  });

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
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const site = req.user!.siteId.replace(/[^A-Za-z0-9._-]/g, '_');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
    res.setHeader('Content-Disposition', `attachment; filename="dispenses-${site}-${day(from)}-to-${day(to)}.csv"`);
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

  // The built client, same origin as the API; any other path is the single-page app.
  const clientDir = path.resolve(config.CLIENT_DIST);
  if (fs.existsSync(path.join(clientDir, 'index.html'))) {
    app.use(express.static(clientDir, { index: false, maxAge: '1h' }));
    app.get(/^\/(?!api\/).*/, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  }

  app.use(errorMiddleware(log));
  return app;
}
