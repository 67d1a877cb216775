/**
 * Helpers shared by the server's integration tests: real HTTP with global fetch, the one error
 * body checked strictly, and row counts read over a connection of the test's own.
 */
import pg from 'pg';
import { errorBodySchema, type PushRow } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with content-type application/json, for malformed bodies. */
  raw?: string;
  headers?: Record<string, string>;
}

export async function call<T = any>(baseUrl: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = opts.raw ?? JSON.stringify(opts.body);
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the caller's assertions show the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** The push body RxDB sends: each record new on the client unless an assumed state is given. */
export function pushBody(docs: Dispense[], assumed?: (Dispense | null)[]): { rows: PushRow[] } {
  return { rows: docs.map((d, i) => ({ newDocumentState: d, assumedMasterState: assumed?.[i] ?? null })) };
}

export function push(baseUrl: string, token: string, body: unknown): Promise<Reply<any>> {
  return call(baseUrl, 'POST', '/api/sync/dispenses/push', { token, body });
}

/**
 * Asserts the status and that the body is exactly the API's one error shape
 * {error:{code,message,issues?}}, nothing more, with the given code.
 */
export function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: (reply.body as any)?.error?.code }).toEqual({ status, code });
  expect(Object.keys(reply.body as object)).toEqual(['error']);
  const error = (reply.body as { error: Record<string, unknown> }).error;
  expect(Object.keys(error).every((k) => ['code', 'message', 'issues'].includes(k))).toBe(true);
  expect(errorBodySchema.safeParse(reply.body).success).toBe(true);
  expect(error.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  expect(String(error.message).length).toBeGreaterThan(0);
}

/** A connection of the test's own to the server's database, to count what was written. */
export interface Counter {
  counts: () => Promise<{ dispenses: number; audit: number }>;
  query: <R extends pg.QueryResultRow = any>(sql: string, values?: unknown[]) => Promise<R[]>;
  close: () => Promise<void>;
}

export function openCounter(databaseUrl: string): Counter {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const query = async <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => (await pool.query<R>(sql, values)).rows;
  return {
    query,
    counts: async () => {
      const [r] = await query<{ dispenses: number; audit: number }>(
        'SELECT (SELECT count(*)::int FROM dispenses) AS dispenses, (SELECT count(*)::int FROM audit_logs) AS audit',
      );
      return r;
    },
    close: () => pool.end(),
  };
}
