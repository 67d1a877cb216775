/**
 * Bundled by seed.ts for the browser: fills the app's own local database through the app's own
 * write path (createDispenses), before the app is opened, to test it with many records.
 */
// First: the schemas below are built knowing zod must not compile parsers with eval (CSP).
import './seed-jitless';
import { openDispenseDatabase } from '../../client/db';
import { createDispenses, type DispenseInput } from '../../client/records';
import { siteDatabaseName } from '../../client/site';

/** Into the user's site database, or the database named `dbName` (that of an earlier version). */
async function seed(count: number, user: { username: string; siteId: string }, dbName?: string, prefix = 'SEED'): Promise<void> {
  const db = await openDispenseDatabase(dbName ?? siteDatabaseName(user.siteId));
  try {
    const start = Date.parse('2026-11-20T08:00:00.000Z');
    for (let from = 0; from < count; from += 1000) {
      const inputs: DispenseInput[] = [];
      for (let i = from; i < Math.min(count, from + 1000); i++) {
        inputs.push({
          patientId: `${prefix}-${String(i).padStart(6, '0')}`,
          medicationCode: `MED${i % 300}`,
          medicationName: 'Metformin 500 mg tablets',
          quantity: 56,
          unit: 'tablet',
          dispensedAt: new Date(start + i * 60_000).toISOString(),
        });
      }
      await createDispenses(db, inputs, user);
    }
  } finally {
    await db.close();
  }
}

(globalThis as { semsSeed?: typeof seed }).semsSeed = seed;
