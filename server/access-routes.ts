/**
 * The routes of people and access: sign-out and a user's own password change (open while a
 * password must be changed), and the site admin's staff, sessions, lost devices and admin log.
 * Thin handlers: parse with the shared schemas (strict bodies), call server/staff.ts,
 * server/sessions.ts or server/devices.ts, send JSON.
 */
import type express from 'express';
import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import type passport from 'passport';
import { DEVICE_ID } from '../schemas/devices';
import {
  adminLogQuerySchema,
  newStaffMemberSchema,
  passwordChangeSchema,
  passwordResetSchema,
  staffChangeSchema,
  usernameSchema,
} from '../schemas/staff';
import type { Actor } from './admin-log';
import { readAdminLog } from './admin-log';
import { requireAdmin, requireAuth } from './auth';
import { deviceIdOf, setDeviceRevoked } from './devices';
import type { Config } from './env';
import { AppError } from './errors';
import type { Limiters } from './rate-limit';
import { logAdminAction } from './admin-log';
import { endSession, listSessions } from './sessions';
import { addStaffMember, changeOwnPassword, changeStaffMember, listStaff, resetStaffPassword } from './staff';

export interface AccessDeps {
  db: Knex;
  config: Config;
  limiters: Limiters;
  auth: passport.PassportStatic;
  apiLimit: RequestHandler;
  smallJson: RequestHandler;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const actorOf = (req: express.Request, res: express.Response): Actor => ({
  siteId: req.user!.siteId,
  username: req.user!.username,
  requestId: res.locals.requestId as string,
});

/** The username in the path; one that cannot be a username is a user nobody has. */
function usernameParam(req: express.Request): string {
  const parsed = usernameSchema.safeParse(req.params.username);
  if (!parsed.success) throw new AppError(404, 'not_found', 'No such user at your site');
  return parsed.data;
}

export function mountAccessRoutes(app: express.Express, { db, config, limiters, auth, apiLimit, smallJson }: AccessDeps): void {
  const signedIn = requireAuth(auth, db);
  const mayChangePassword = requireAuth(auth, db, { passwordChange: true });
  const admin = [signedIn, apiLimit, requireAdmin];

  // Sign-out ends this token's session: its next request is 401 token_revoked.
  app.post('/api/auth/logout', mayChangePassword, async (_req, res) => {
    await endSession(db, res.locals.sessionId as string, 'signed_out');
    res.status(204).end();
  });

  app.post('/api/auth/password', mayChangePassword, apiLimit, smallJson, async (req, res) => {
    const body = passwordChangeSchema.parse(req.body);
    const who = { user: req.user!, ip: req.ip ?? 'unknown', deviceId: deviceIdOf(req), requestId: res.locals.requestId as string };
    res.json(await changeOwnPassword(db, { config, limiters }, who, body));
  });

  app.get('/api/users', ...admin, async (req, res) => {
    res.json({ users: await listStaff(db, req.user!.siteId) });
  });

  // A password set here is temporary: the new user changes it at the first sign-in.
  app.post('/api/users', ...admin, smallJson, async (req, res) => {
    const body = newStaffMemberSchema.parse(req.body);
    res.status(201).json({ user: await addStaffMember(db, actorOf(req, res), body, { temporary: true }) });
  });

  app.patch('/api/users/:username', ...admin, smallJson, async (req, res) => {
    const username = usernameParam(req);
    const change = staffChangeSchema.parse(req.body);
    res.json({ user: await changeStaffMember(db, actorOf(req, res), username, change) });
  });

  app.post('/api/users/:username/password', ...admin, smallJson, async (req, res) => {
    const username = usernameParam(req);
    const { password } = passwordResetSchema.parse(req.body);
    await resetStaffPassword(db, actorOf(req, res), username, password, { temporary: true });
    res.status(204).end();
  });

  app.get('/api/sessions', ...admin, async (req, res) => {
    res.json({ sessions: await listSessions(db, req.user!.siteId, res.locals.sessionId as string) });
  });

  app.delete('/api/sessions/:id', ...admin, async (req, res) => {
    const id = String(req.params.id).toLowerCase();
    const actor = actorOf(req, res);
    const ended =
      UUID.test(id) &&
      (await db.transaction(async (trx) => {
        if (!(await endSession(trx, id, 'ended_by_admin', actor.siteId))) return false;
        await logAdminAction(trx, actor, { action: 'session.end', target: id });
        return true;
      }));
    if (!ended) throw new AppError(404, 'not_found', 'No such live session at your site');
    res.status(204).end();
  });

  for (const [action, revoked] of [
    ['revoke', true],
    ['restore', false],
  ] as const) {
    app.post(`/api/sync/devices/:deviceId/${action}`, ...admin, async (req, res) => {
      const deviceId = String(req.params.deviceId);
      if (!DEVICE_ID.test(deviceId)) throw new AppError(404, 'not_found', 'No such device at your site');
      await setDeviceRevoked(db, actorOf(req, res), deviceId, revoked);
      res.status(204).end();
    });
  }

  app.get('/api/admin-log', ...admin, async (req, res) => {
    res.json(await readAdminLog(db, req.user!.siteId, adminLogQuerySchema.parse(req.query)));
  });
}
