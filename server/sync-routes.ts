/**
 * The sync routes: a device's push and pull, its report after each run, the records a restored
 * site lacks, the site's devices for its admin, and the sync status. Thin handlers: parse with
 * the shared schemas, call server/push.ts, server/pull.ts, server/devices.ts or server/records.ts.
 */
import type { Express, RequestHandler } from 'express';
import express from 'express';
import type { Knex } from 'knex';
import type passport from 'passport';
import { z } from 'zod';
import { MAX_PUSH_ROWS, missingRequestSchema, pushRequestSchema } from '../schemas/api';
import { DEVICE_ID, deviceNameSchema, deviceReportSchema } from '../schemas/devices';
import { checkToken, requireAdmin, userFound } from './auth';
import { deviceIdOf, listDevices, missingOfSite, nameDevice, reportDevice } from './devices';
import type { Config } from './env';
import { AppError } from './errors';
import type { Metrics, PushOutcome } from './metrics';
import { parsePullQuery, pullDispenses } from './pull';
import { pushDispenses } from './push';
import { consume, type Limiters } from './rate-limit';
import { syncStatus } from './records';

export interface SyncDeps {
  db: Knex;
  config: Config;
  limiters: Limiters;
  auth: passport.PassportStatic;
  signedIn: RequestHandler;
  apiLimit: RequestHandler;
  smallJson: RequestHandler;
  metrics: Metrics;
}

// The push's envelope (a thousand rows), compiled ahead of time: same answers, same 400s.
const pushRequest = z.compile(pushRequestSchema);

export function mountSyncRoutes(app: Express, { db, config, limiters, auth, signedIn, apiLimit, smallJson, metrics }: SyncDeps): void {
  // Bodies are parsed per route, after the token check, as in app.ts: a push's up to BODY_LIMIT.
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

  app.post('/api/sync/dispenses/push', checkToken(auth, db), pushBody, async (req, res) => {
    const rows = (req.body as { rows?: unknown } | undefined)?.rows;
    if (Array.isArray(rows) && rows.length > MAX_PUSH_ROWS) {
      throw new AppError(413, 'batch_too_large', `A push takes at most ${MAX_PUSH_ROWS} rows; this one has ${rows.length}`);
    }
    const body = pushRequest.parse(req.body);
    await res.locals.pushBudget;
    const deviceId = deviceIdOf(req);
    const written = { inserted: 0, updated: 0 };
    const result = await pushDispenses(
      db,
      {
        user: req.user!,
        deviceId,
        requestId: res.locals.requestId as string,
        userAgent: req.header('user-agent'),
        clockAheadLimitMs: config.CLOCK_AHEAD_LIMIT_MINUTES * 60_000,
        written,
      },
      body.rows,
    );
    const counts: Record<PushOutcome, number> = { ...written, conflict: result.conflicts.length, rejected: result.rejected.length, unchanged: 0 };
    counts.unchanged = Math.max(0, body.rows.length - counts.inserted - counts.updated - counts.conflict - counts.rejected);
    metrics.pushed(
      counts,
      result.rejected.map((r) => r.code),
    );
    res.json(result);
  });

  app.get('/api/sync/dispenses/pull', signedIn, apiLimit, async (req, res) => {
    const q = parsePullQuery(req.query);
    const page = await pullDispenses(db, req.user!.siteId, q, config.PULL_WINDOW_DAYS);
    metrics.pulled(page.documents.length);
    res.json(page);
  });

  // Devices and proof of delivery (server/devices.ts): each device reports after its sync runs.
  app.post('/api/sync/devices/report', signedIn, apiLimit, smallJson, async (req, res) => {
    const deviceId = deviceIdOf(req);
    if (!deviceId) throw new AppError(400, 'device_id_required', 'A device report needs the X-Device-Id header (1-64 letters, digits, . _ : -)');
    const report = deviceReportSchema.parse(req.body);
    const seen = { siteId: req.user!.siteId, deviceId, username: req.user!.username, userAgent: req.header('user-agent') };
    res.json(await reportDevice(db, seen, report));
  });

  // After a restore from an older backup: which of the records a device made the site lacks (client/sync/resend.ts).
  app.post('/api/sync/dispenses/missing', signedIn, apiLimit, idsJson, async (req, res) => {
    const { externalIds } = missingRequestSchema.parse(req.body);
    res.json(await missingOfSite(db, req.user!.siteId, externalIds));
  });

  app.get('/api/sync/devices', signedIn, apiLimit, requireAdmin, async (req, res) => {
    res.json(await listDevices(db, req.user!.siteId));
  });

  // The site's admin names a device; another site's device answers as one that does not exist.
  app.patch('/api/sync/devices/:deviceId', signedIn, apiLimit, requireAdmin, smallJson, async (req, res) => {
    const { name } = deviceNameSchema.parse(req.body);
    const deviceId = String(req.params.deviceId);
    if (!DEVICE_ID.test(deviceId)) throw new AppError(404, 'not_found', 'No such device at your site');
    res.json(await nameDevice(db, req.user!.siteId, deviceId, name));
  });

  app.get('/api/sync/status', signedIn, apiLimit, async (req, res) => {
    const settings = { pullWindowDays: config.PULL_WINDOW_DAYS, duplicateWindowHours: config.DUPLICATE_WINDOW_HOURS };
    res.json(await syncStatus(db, req.user!.siteId, settings));
  });
}
