/**
 * Sign-in and bearer tokens: HS256 JWTs of 24 hours, checked by passport-jwt on every API route
 * but login and health. Each way a token can fail gets its own 401 code; the user is read
 * from the database on each request (not cached), so a deleted user's token stops working at once.
 */
import { createSecretKey } from 'node:crypto';
import type { RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Knex } from 'knex';
import type { LoginRequest, LoginResponse, User } from '../schemas/api';
import type { Config } from './env';
import { AppError } from './errors';
import { DUMMY_HASH_PROMISE, verifyPassword } from './passwords';
import { consume, RateLimited, type Limiters } from './rate-limit';
import { findUserById, findUserForLogin } from './users';

const ISSUER = 'sems-dispense';
const AUDIENCE = 'sems-dispense-api';
const MAX_USER_ID = 2147483647; // users.id is a PostgreSQL integer

export function issueToken(config: Config, user: User): { token: string; expiresAt: string } {
  const expiresAt = new Date(Date.now() + config.TOKEN_TTL_SECONDS * 1000);
  const token = jwt.sign({ username: user.username, site: user.siteId }, config.JWT_SECRET, {
    algorithm: 'HS256',
    subject: String(user.id),
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: config.TOKEN_TTL_SECONDS,
  });
  return { token, expiresAt: expiresAt.toISOString() };
}

export async function login(db: Knex, config: Config, limiters: Limiters, body: LoginRequest, ip: string): Promise<LoginResponse> {
  const key = `${body.username.toLowerCase()}|${ip}`;
  const failures = await limiters.loginFailuresByUserIp.get(key);
  if (failures && failures.consumedPoints >= config.RATE_LOGIN_FAILURES) {
    throw new RateLimited(failures.msBeforeNext, 'Too many failed sign-ins.', 'login_fail');
  }
  await consume(limiters.loginByIp, ip, 'Too many sign-in attempts from this address.');
  const found = await findUserForLogin(db, body.username);
  const ok = await verifyPassword(body.password, found?.passwordHash ?? (await DUMMY_HASH_PROMISE));
  if (!found || !ok) {
    await limiters.loginFailuresByUserIp.penalty(key, 1);
    throw new AppError(401, 'invalid_credentials', 'The username or password is wrong');
  }
  await limiters.loginFailuresByUserIp.delete(key);
  const { passwordHash: _hash, ...user } = found;
  return { ...issueToken(config, user), user, offlineSignInSeconds: config.OFFLINE_SIGN_IN_DAYS * 24 * 60 * 60 };
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
      (payload: { sub?: unknown }, done: (err: unknown, subject?: TokenSubject | false) => void) => {
        // Only this server's tokens get here, but a subject that is not a user id must be a
        // 401 like a deleted user, not a failed integer cast in the query (a 500).
        const id = typeof payload.sub === 'string' && /^[1-9]\d{0,9}$/.test(payload.sub) ? Number(payload.sub) : 0;
        done(null, id < 1 || id > MAX_USER_ID ? false : { id });
      },
    ),
  );
  return instance as unknown as passport.PassportStatic;
}

interface TokenSubject {
  id: number;
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
 * Checks the token and starts reading its user from the database, without waiting for it:
 * `res.locals.tokenUserId` is the token's user id, `userFound` waits for the user. The push
 * reads its body in between, so the lookup's round trip overlaps the JSON parse; an anonymous
 * caller (no valid signature) is refused before any body is read.
 */
export function checkToken(auth: passport.PassportStatic, db: Knex): RequestHandler {
  return (req, res, next) => {
    auth.authenticate('jwt', { session: false }, (err: unknown, subject: TokenSubject | false, info: unknown) => {
      if (err) return next(err);
      if (!subject) return next(tokenFailure(info, Boolean(req.headers.authorization)));
      const lookup = findUserById(db, subject.id);
      lookup.catch(() => {}); // awaited by userFound; a request that fails first must not leave it unhandled
      res.locals.tokenUserId = subject.id;
      res.locals.userLookup = lookup;
      next();
    })(req, res, next);
  };
}

/** Waits for the user that checkToken started reading: gone since the token was made → 401. */
export const userFound: RequestHandler = (req, res, next) => {
  (res.locals.userLookup as Promise<User | undefined>).then((user) => {
    if (!user) return next(new AppError(401, 'user_not_found', 'The user of this token no longer exists'));
    req.user = user;
    next();
  }, next);
};

/** The token and its user, for a route that needs nothing in between. */
export function requireAuth(auth: passport.PassportStatic, db: Knex): RequestHandler {
  const check = checkToken(auth, db);
  return (req, res, next) => check(req, res, (err?: unknown) => (err ? next(err) : userFound(req, res, next)));
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
