/**
 * Bundled by seed.ts for the browser: fills the app's own local database through the app's own
 * write path (createDispenses), before the app is opened, to test it with many records.
 */
// First: the schemas below are built knowing zod must not compile parsers with eval (CSP).
import './seed-jitless';
import { openDispenseDatabase } from '../../client/data/db';
import { createDispenses, type DispenseInput } from '../../client/data/records';
import { siteDatabaseName } from '../../client/data/site';

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

/**
 * The local ceiling of a pull (bench/pull.ts): `count` records, made before the clock, written by
 * RxDB's bulkInsert in chunks of `chunk` into a fresh database of the app's layout, with no
 * network. Returns the milliseconds of the writes alone; the database is removed after.
 */
async function bulkInsertCeiling(count: number, chunk: number, user: { username: string; siteId: string }): Promise<number> {
  const db = await openDispenseDatabase(`sems-ceiling-${Date.now()}`);
  try {
    const now = Date.now();
    const docs = Array.from({ length: count }, (_, i) => {
      const at = new Date(now - i * 60_000).toISOString();
      return {
        externalId: crypto.randomUUID(),
        siteId: user.siteId,
        patientId: `P${100000 + (i % 5000)}`,
        patientName: `Patient ${i % 5000}`,
        medicationCode: `MED${i % 300}`,
        medicationName: 'Amoxicillin 500 mg capsules',
        quantity: 21,
        unit: 'capsule' as const,
        batchNumber: `B${i % 97}`,
        expiryDate: '2028-06-30',
        dispensedAt: at,
        dispensedBy: user.username,
        status: 'dispensed' as const,
        updatedAt: at,
      };
    });
    const start = performance.now();
    for (let from = 0; from < count; from += chunk) {
      const res = await db.dispenses.bulkInsert(docs.slice(from, from + chunk));
      if (res.error.length > 0) throw new Error(`bulkInsert: ${res.error[0].status}`);
    }
    return performance.now() - start;
  } finally {
    await db.remove();
  }
}

(globalThis as { semsSeed?: typeof seed }).semsSeed = seed;
(globalThis as { semsBulkInsertCeiling?: typeof bulkInsertCeiling }).semsBulkInsertCeiling = bulkInsertCeiling;
