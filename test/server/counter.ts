/** Row counts and queries over a connection of the test's own to the server's database, to see what was written. */
import pg from 'pg';

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
