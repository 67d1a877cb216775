/**
 * Sign-in and bearer tokens: HS256 JWTs of 24 hours, checked by passport-jwt on every API route
 * but login and health. Each token names its session (`sid`, server/sessions.ts); the user, the
 * session and the device are read from the database on each request (not cached), in the one
 * statement the check always made, so access ends from the next request: a deleted or disabled
 * user, an ended session, a revoked device. Each way a token can fail gets its own code.
 */
import { createSecretKey } from 'node:crypto';
import type { RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Knex } from 'knex';
import type { LoginRequest, LoginResponse, User } from '../schemas/api';
import { deviceIdOf, isDeviceRevoked } from './devices';
import type { Config } from './env';
import { AppError } from './errors';
import { DUMMY_HASH_PROMISE, verifyPassword } from './passwords';
import { consume, RateLimited, type Limiters } from './rate-limit';
import { ENDED_MESSAGE, readTokenUser, startSession, touchSession, type TokenUser } from './sessions';
import { findUserForLogin, offlineAccessOf } from './users';

const ISSUER = 'sems-dispense';
const AUDIENCE = 'sems-dispense-api';
const MAX_USER_ID = 2147483647; // users.id is a PostgreSQL integer
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A signed token of `user` for the session `sessionId`. Without a session (tests that need an
 * expired token make one) the token is refused at its first use, once it is checked at all.
 */
export function issueToken(config: Config, user: User, sessionId?: string): { token: string; expiresAt: string } {
  const expiresAt = new Date(Date.now() + config.TOKEN_TTL_SECONDS * 1000);
  const claims = { username: user.username, site: user.siteId, ...(sessionId ? { sid: sessionId } : {}) };
  const token = jwt.sign(claims, config.JWT_SECRET, {
    algorithm: 'HS256',
    subject: String(user.id),
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: config.TOKEN_TTL_SECONDS,
  });
  return { token, expiresAt: expiresAt.toISOString() };
}

/** Starts a session of `user` on `deviceId` and signs its token: what a sign-in and a password change answer. */
export async function signedInAnswer(
  db: Knex,
  config: Config,
  user: User,
  deviceId: string | null,
  mustChangePassword: boolean,
): Promise<LoginResponse> {
  const sessionId = await startSession(db, user, deviceId, config.TOKEN_TTL_SECONDS);
  return {
    ...issueToken(config, user, sessionId),
    user,
    offlineSignInSeconds: config.OFFLINE_SIGN_IN_DAYS * 24 * 60 * 60,
    mustChangePassword,
    offlineAccess: await offlineAccessOf(db, user.siteId),
  };
}

/**
 * Counts a failed password for `username` from `ip` against the sign-in limit, and refuses when
 * the limit is reached: the sign-in and a password change (its current password) share it.
 */
export async function checkPasswordAttempt(
  db: Knex,
  limiters: Limiters,
  config: Config,
  attempt: { username: string; password: string; ip: string },
): Promise<Awaited<ReturnType<typeof findUserForLogin>>> {
  const key = `${attempt.username.toLowerCase()}|${attempt.ip}`;
  const failures = await limiters.loginFailuresByUserIp.get(key);
  if (failures && failures.consumedPoints >= config.RATE_LOGIN_FAILURES) {
    throw new RateLimited(failures.msBeforeNext, 'Too many failed sign-ins.', 'login_fail');
  }
  await consume(limiters.loginByIp, attempt.ip, 'Too many sign-in attempts from this address.');
  const found = await findUserForLogin(db, attempt.username);
  const ok = await verifyPassword(attempt.password, found?.passwordHash ?? (await DUMMY_HASH_PROMISE));
  if (!found || !ok) {
    await limiters.loginFailuresByUserIp.penalty(key, 1);
    return undefined;
  }
  await limiters.loginFailuresByUserIp.delete(key);
  return found;
}

/**
 * Signs in. The right password of a disabled user is 401 user_disabled (only who knows the
 * password learns it); from a revoked device, 403 device_revoked. `deviceId` is the request's
 * X-Device-Id, kept with the session.
 */
export async function login(
  db: Knex,
  config: Config,
  limiters: Limiters,
  body: LoginRequest,
  from: { ip: string; deviceId: string | null },
): Promise<LoginResponse> {
  const found = await checkPasswordAttempt(db, limiters, config, { username: body.username, password: body.password, ip: from.ip });
  if (!found) throw new AppError(401, 'invalid_credentials', 'The username or password is wrong');
  if (found.disabled) throw new AppError(401, 'user_disabled', ENDED_MESSAGE.disabled);
  if (from.deviceId && (await isDeviceRevoked(db, found.siteId, from.deviceId))) {
    throw new AppError(403, 'device_revoked', ENDED_MESSAGE.device_revoked);
  }
  const { passwordHash: _hash, disabled: _disabled, mustChangePassword, ...user } = found;
  await db('users').where({ id: user.id }).update({ last_sign_in_at: db.fn.now() });
  return signedInAnswer(db, config, user, from.deviceId, mustChangePassword);
}

export function configurePassport(config: Config): passport.PassportStatic {
  const instance = new passport.Passport();
  instance.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // A key object, not the string: given a string, jsonwebtoken first tries to read it as a
        // PEM public key, and that failed parse (an exception) cost ~0.7 ms on every request.
        secretOrKey: createSecretKey(Buffer.from(config.JWT_SECRET)) as unknown as string,
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
      },
      (payload: { sub?: unknown; sid?: unknown }, done: (err: unknown, subject?: TokenSubject | false) => void) => {
        // Only this server's tokens get here, but a subject that is not a user id must be a
        // 401 like a deleted user, not a failed integer cast in the query (a 500). A session id
        // that is not one (a token of an earlier version has none) is a session that does not exist.
        const id = typeof payload.sub === 'string' && /^[1-9]\d{0,9}$/.test(payload.sub) ? Number(payload.sub) : 0;
        const sessionId = typeof payload.sid === 'string' && UUID.test(payload.sid) ? payload.sid : null;
        done(null, id < 1 || id > MAX_USER_ID ? false : { id, sessionId });
      },
    ),
  );
  return instance as unknown as passport.PassportStatic;
}

interface TokenSubject {
  id: number;
  sessionId: string | null;
}

const SIGNATURE_FAILURES = new Set(['invalid signature', 'jwt signature is required', 'invalid algorithm']);

function tokenFailure(info: unknown, hasHeader: boolean): AppError {
  const e = info as { name?: string; message?: string } | undefined;
  if (!hasHeader) return new AppError(401, 'token_missing', 'Sign in: this request needs a Bearer token');
  if (e?.name === 'TokenExpiredError') return new AppError(401, 'token_expired', 'The session has expired; sign in again');
  // An unsigned token (alg none) or one signed with another algorithm is as untrusted as a
  // wrong signature; jsonwebtoken reports each with its own message.
  if (e?.message && SIGNATURE_FAILURES.has(e.message)) {
    return new AppError(401, 'token_invalid_signature', 'The token is not signed by this server');
  }
  if (e?.name === 'JsonWebTokenError' || e?.name === 'NotBeforeError') {
    return new AppError(401, 'token_malformed', 'The token is malformed or not accepted by this server');
  }
  if (e?.message === 'No auth token') return new AppError(401, 'token_malformed', 'The Authorization header is not "Bearer <token>"');
  return new AppError(401, 'user_not_found', 'The user of this token no longer exists');
}

/**
 * Checks the token and starts reading its user and session from the database, without waiting
 * for it: `res.locals.tokenUserId` is the token's user id, `userFound` waits for the read. The
 * push reads its body in between, so the lookup's round trip overlaps the JSON parse; an
 * anonymous caller (no valid signature) is refused before any body is read.
 */
export function checkToken(auth: passport.PassportStatic, db: Knex): RequestHandler {
  return (req, res, next) => {
    auth.authenticate('jwt', { session: false }, (err: unknown, subject: TokenSubject | false, info: unknown) => {
      if (err) return next(err);
      if (!subject) return next(tokenFailure(info, Boolean(req.headers.authorization)));
      const deviceId = deviceIdOf(req);
      const lookup = readTokenUser(db, subject.id, subject.sessionId, deviceId).then((found) => {
        // Last seen, at most once a minute per session, and not awaited: the request does not wait for it.
        if (found?.touch && !found.ended) touchSession(db, subject.sessionId!, deviceId).catch(() => {});
        return found;
      });
      lookup.catch(() => {}); // awaited by userFound; a request that fails first must not leave it unhandled
      res.locals.tokenUserId = subject.id;
      res.locals.sessionId = subject.sessionId;
      res.locals.userLookup = lookup;
      next();
    })(req, res, next);
  };
}

/** Why a request of this token's user and session is refused, or null. */
function refusal(found: TokenUser | undefined, passwordChangeAllowed: boolean): AppError | null {
  if (!found) return new AppError(401, 'user_not_found', 'The user of this token no longer exists');
  if (found.disabled) return new AppError(401, 'user_disabled', ENDED_MESSAGE.disabled);
  if (found.deviceRevoked) return new AppError(403, 'device_revoked', ENDED_MESSAGE.device_revoked);
  if (found.ended) {
    const message = found.reason ? ENDED_MESSAGE[found.reason] : 'This session has ended; sign in again.';
    return new AppError(401, 'token_revoked', message);
  }
  if (found.mustChangePassword && !passwordChangeAllowed) {
    return new AppError(403, 'password_change_required', "Your password was set by the site's admin: choose your own before you go on.");
  }
  return null;
}

/**
 * Waits for the user and session that checkToken started reading, and refuses the request when
 * access has ended: a user gone or disabled, a revoked device, an ended session; a password that
 * must be changed first (except on the routes that allow it, `res.locals.passwordChangeAllowed`).
 */
export const userFound: RequestHandler = (req, res, next) => {
  (res.locals.userLookup as Promise<TokenUser | undefined>).then((found) => {
    const refused = refusal(found, res.locals.passwordChangeAllowed === true);
    if (refused) return next(refused);
    req.user = found!.user;
    next();
  }, next);
};

/**
 * The token and its user, for a route that needs nothing in between. `passwordChange`: the route
 * stays open while the user must change a password set by an admin (the change itself, sign-out).
 */
export function requireAuth(auth: passport.PassportStatic, db: Knex, opts: { passwordChange?: boolean } = {}): RequestHandler {
  const check = checkToken(auth, db);
  return (req, res, next) =>
    check(req, res, (err?: unknown) => {
      if (err) return next(err);
      res.locals.passwordChangeAllowed = opts.passwordChange === true;
      userFound(req, res, next);
    });
}

/** After requireAuth: a site admin only; anyone else gets 403 with the error body. */
export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.user?.role === 'admin') return next();
  next(new AppError(403, 'forbidden', 'Only a site admin may do this'));
};

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // passport attaches the signed-in user here
    interface User {
      id: number;
      username: string;
      displayName: string;
      siteId: string;
      role: 'pharmacist' | 'admin';
    }
  }
}
