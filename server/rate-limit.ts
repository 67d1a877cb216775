/**
 * Rate limits by tier: login failures per username+IP (strict) and per IP, pushes per user,
 * other API calls per user. Counters live in PostgreSQL when the server runs on one, so
 * several instances share them; the embedded database is one process, so memory suffices.
 */
import type { Pool } from 'pg';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
  type IRateLimiterStoreOptions,
} from 'rate-limiter-flexible';
import type { Config } from './env';
import { AppError } from './errors';
import type { RateLimit } from './metrics';

export interface Limiters {
  loginFailuresByUserIp: RateLimiterAbstract;
  loginByIp: RateLimiterAbstract;
  push: RateLimiterAbstract;
  api: RateLimiterAbstract;
}

/**
 * The pool as the limiter sees it, with its queries' statement names dropped. The limiter names
 * its statements (prepared once per connection), which a pooler in transaction mode (PgBouncer)
 * breaks: the next query of the same name lands on another server connection ("prepared
 * statement does not exist") or one that has it already ("already exists"). Unnamed, each query
 * is parsed where it runs; the statements are one-row upserts and reads.
 */
function unprepared(pool: Pool): Pick<Pool, 'query'> {
  return { query: ((q: { text: string; values?: unknown[] }) => pool.query({ text: q.text, values: q.values })) as Pool['query'] };
}

export function createLimiters(config: Config, pool?: Pool): Limiters {
  const make = (keyPrefix: RateLimit, points: number, duration: number): RateLimiterAbstract => {
    const opts = { keyPrefix, points, duration };
    if (!pool) return new RateLimiterMemory(opts);
    const storeOpts: IRateLimiterStoreOptions & { tableCreated: boolean; clearExpiredByTimeout: boolean } = {
      ...opts,
      storeClient: unprepared(pool),
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true, // made by the migrations
      clearExpiredByTimeout: false,
    };
    return new RateLimiterPostgres(storeOpts);
  };
  return {
    loginFailuresByUserIp: make('login_fail', config.RATE_LOGIN_FAILURES, config.RATE_LOGIN_WINDOW_SECONDS),
    loginByIp: make('login_ip', config.RATE_LOGIN_FAILURES * 20, config.RATE_LOGIN_WINDOW_SECONDS),
    push: make('push', config.RATE_PUSH_PER_MINUTE, 60),
    api: make('api', config.RATE_API_PER_MINUTE, 60),
  };
}

/** A 429 that says which limit refused it (a metric's label: the limiter's key prefix). */
export class RateLimited extends AppError {
  constructor(
    msBeforeNext: number,
    message: string,
    readonly limit: RateLimit,
  ) {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    super(429, 'rate_limited', `${message} Try again in ${seconds} s.`, undefined, { 'Retry-After': String(seconds) });
  }
}

/** Takes one point; a refusal becomes 429 with Retry-After, a store failure is passed on. */
export async function consume(limiter: RateLimiterAbstract, key: string, message: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new RateLimited(err.msBeforeNext, message, limiter.keyPrefix as RateLimit);
    throw err;
  }
}
