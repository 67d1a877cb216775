/**
 * The server's configuration: the one place that reads process.env, parsed once by zod at
 * start. A bad value stops the server with the field and the reason.
 */
import { z } from 'zod';

const DEV_JWT_SECRET = 'sems-dev-secret-not-for-production-use-0000';

const intFrom = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: intFrom(3000, 0, 65535),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }).optional(),
    SEMS_DATA_DIR: z.string().min(1).default('./data'),
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
    TOKEN_TTL_SECONDS: intFrom(24 * 60 * 60, 60, 7 * 24 * 60 * 60),
    // Days after a user's last online sign-in on a device during which they may sign in there
    // with no network (sent at sign-in; the device enforces it). 0 turns offline sign-in off.
    OFFLINE_SIGN_IN_DAYS: intFrom(7, 0, 90),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(kb|mb)$/, 'BODY_LIMIT is a size such as 5mb')
      .default('5mb'),
    RATE_LOGIN_FAILURES: intFrom(5, 1, 1000),
    RATE_LOGIN_WINDOW_SECONDS: intFrom(15 * 60, 1, 24 * 60 * 60),
    RATE_PUSH_PER_MINUTE: intFrom(120, 1, 100000),
    RATE_API_PER_MINUTE: intFrom(600, 1, 100000),
    // Days of the site's records (by dispensedAt) a device's first pull fetches and keeps; changes
    // after that first pull reach it whatever their age (server/pull.ts). Sent in /api/sync/status.
    PULL_WINDOW_DAYS: intFrom(90, 1, 3650),
    // The same patient and medication code again within this many hours is a possible duplicate
    // dispense, which the counter asks to confirm. Sent in /api/sync/status.
    DUPLICATE_WINDOW_HOURS: intFrom(24, 1, 30 * 24),
    // The push refuses a record instant more than this many minutes ahead of the server's clock
    // (clock_ahead: the device's clock is fast). Tests whose fake browser clock runs hours ahead raise it.
    CLOCK_AHEAD_LIMIT_MINUTES: intFrom(10, 1, 7 * 24 * 60),
    SHUTDOWN_GRACE_SECONDS: intFrom(25, 0, 600),
    LOG_LEVEL: z.enum(['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    // JSON lines for machines (default); `pretty` for people reading a terminal.
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    // GET /metrics answers only with this bearer token; unset, /metrics does not exist (404).
    METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    TRUST_PROXY: z.string().min(1).default('loopback'),
    CLIENT_DIST: z.string().min(1).default('dist/client'),
    // HTTPS served by the server itself (both files, PEM), and an optional plain-http port that
    // only redirects to it. Unset: plain http, as on localhost or behind a TLS proxy.
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    HTTP_REDIRECT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'JWT_SECRET is required when NODE_ENV=production' });
    }
    if (!env.TLS_CERT_FILE !== !env.TLS_KEY_FILE) {
      const [missing, given] = env.TLS_CERT_FILE ? ['TLS_KEY_FILE', 'TLS_CERT_FILE'] : ['TLS_CERT_FILE', 'TLS_KEY_FILE'];
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `${missing} is required with ${given}: HTTPS needs both the certificate and its key`,
      });
    }
    if (env.HTTP_REDIRECT_PORT !== undefined && !env.TLS_CERT_FILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_REDIRECT_PORT'],
        message: 'HTTP_REDIRECT_PORT redirects to HTTPS, so it needs TLS_CERT_FILE and TLS_KEY_FILE',
      });
    }
    if (env.HTTP_REDIRECT_PORT !== undefined && env.HTTP_REDIRECT_PORT !== 0 && env.HTTP_REDIRECT_PORT === env.PORT) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_REDIRECT_PORT'], message: 'HTTP_REDIRECT_PORT must differ from PORT' });
    }
  });

export type Config = Omit<z.infer<typeof envSchema>, 'JWT_SECRET'> & { JWT_SECRET: string };

export function parseEnv(env: NodeJS.ProcessEnv = process.env): Config {
  // A variable set to '' (PORT= in a .env file or compose) means unset: coerced, '' would be
  // port 0 (a random port) and an empty JWT_SECRET would fail instead of warning.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const { JWT_SECRET, ...rest } = parsed.data;
  if (!JWT_SECRET && rest.NODE_ENV !== 'test') {
    console.warn('WARNING: JWT_SECRET is not set; using a development secret. Set JWT_SECRET (32+ characters) before real use.');
  }
  return { ...rest, JWT_SECRET: JWT_SECRET ?? DEV_JWT_SECRET };
}
