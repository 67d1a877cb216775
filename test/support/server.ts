/**
 * A real server for tests: its own PostgreSQL database, migrated, listening on a random port,
 * with users made through the same code as `npm run user`, and real sign-in over HTTP.
 */
import { parseEnv } from '../../server/env';
import type { Logger } from '../../server/logging';
import { startServer, type RunningServer } from '../../server/start';
import type { LoginResponse } from '../../schemas/api';
import { login, TEST_PASSWORD } from './api';
import { createTestDatabase, type TestDatabase } from './postgres';
import { seedUsers } from './users';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestServer extends RunningServer {
  database: TestDatabase | null;
  /** Adds a pharmacist of the site (password TEST_PASSWORD unless given), by seedUsers. */
  addUser: (username: string, siteId: string, password?: string) => Promise<void>;
  /** Signs in over HTTP and returns the login response (token, user). */
  login: (username: string, password?: string) => Promise<LoginResponse>;
  /** Closes the server and drops its database. */
  stop: () => Promise<void>;
}

/** Starts a server on a fresh PostgreSQL database (or, with `embeddedDir`, on PGlite). */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: { database?: TestDatabase; embeddedDir?: string; logger?: Logger } = {},
): Promise<TestServer> {
  const database = opts.embeddedDir ? null : (opts.database ?? (await createTestDatabase()));
  const config = parseEnv({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_PUSH_PER_MINUTE: '100000',
    RATE_API_PER_MINUTE: '100000',
    ...(database ? { DATABASE_URL: database.url } : { SEMS_DATA_DIR: opts.embeddedDir! }),
    ...env,
  });
  const running = await startServer(config, opts.logger);
  return {
    ...running,
    database,
    addUser: async (username, siteId, password = TEST_PASSWORD) => {
      await seedUsers(running.db, [{ username, siteId, password }]);
    },
    login: (username, password) => login(running.url, username, password),
    stop: async () => {
      await running.close();
      if (database && !opts.database) await database.drop();
    },
  };
}
