/**
 * A real server for tests: its own PostgreSQL database, migrated, listening on a random port,
 * with users made through the same code as `npm run user`, and real sign-in over HTTP.
 */
import { parseEnv } from '../../server/env';
import { startServer, type RunningServer } from '../../server/start';
import { addUser } from '../../server/users';
import type { LoginResponse } from '../../schemas/api';
import { createTestDatabase, type TestDatabase } from './postgres';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestServer extends RunningServer {
  database: TestDatabase | null;
  /** Adds a user (password "password123" unless given) and returns it. */
  addUser: (username: string, siteId: string, password?: string) => Promise<void>;
  /** Signs in over HTTP and returns the login response (token, user). */
  login: (username: string, password?: string) => Promise<LoginResponse>;
  /** Closes the server and drops its database. */
  stop: () => Promise<void>;
}

/** Starts a server on a fresh PostgreSQL database (or, with `embeddedDir`, on PGlite). */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: { database?: TestDatabase; embeddedDir?: string } = {},
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
  const running = await startServer(config, () => {});
  const login = async (username: string, password = 'password123'): Promise<LoginResponse> => {
    const res = await fetch(`${running.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
    return (await res.json()) as LoginResponse;
  };
  return {
    ...running,
    database,
    addUser: async (username, siteId, password = 'password123') => {
      await addUser(running.db, { username, password, siteId, role: 'pharmacist' });
    },
    login,
    stop: async () => {
      await running.close();
      if (database && !opts.database) await database.drop();
    },
  };
}
