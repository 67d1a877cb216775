/**
 * The raw IndexedDB ceiling of a pull (bench/pull.ts): records of the pull's shape written by
 * `put` straight into an object store keyed by externalId with the indexes a local read needs (the
 * collection's indexes in schemas/rxdb-schema.ts, each ending in the primary key as RxDB makes
 * them), one transaction per chunk, no RxDB, no Dexie. The records are made before the clock.
 */
import type { Page } from 'playwright-core';
import { dispenseRxJsonSchema } from '../schemas/rxdb-schema';

/**
 * The page's code as text, not a function: tsx's esbuild would wrap named inner functions in a
 * helper the page lacks. Resolves to the milliseconds of the writes alone; the database is deleted after.
 */
function rawPutScript(count: number, chunk: number, siteId: string, username: string, indexes: string[][]): string {
  return `(async () => {
    const name = 'sems-raw-ceiling-' + Date.now();
    const indexes = ${JSON.stringify(indexes)};
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        const store = req.result.createObjectStore('docs', { keyPath: 'externalId' });
        for (const fields of indexes) store.createIndex('[' + fields.join('+') + ']', fields);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const now = Date.now();
    const docs = Array.from({ length: ${count} }, (_, i) => {
      const at = new Date(now - i * 60000).toISOString();
      return {
        externalId: crypto.randomUUID(), siteId: ${JSON.stringify(siteId)}, patientId: 'P' + (100000 + (i % 5000)),
        patientName: 'Patient ' + (i % 5000), medicationCode: 'MED' + (i % 300), medicationName: 'Amoxicillin 500 mg capsules',
        quantity: 21, unit: 'capsule', batchNumber: 'B' + (i % 97), expiryDate: '2028-06-30', dispensedAt: at,
        dispensedBy: ${JSON.stringify(username)}, status: 'dispensed', updatedAt: at,
      };
    });
    const start = performance.now();
    for (let from = 0; from < docs.length; from += ${chunk}) {
      await new Promise((resolve, reject) => {
        const tx = db.transaction('docs', 'readwrite', { durability: 'default' });
        const store = tx.objectStore('docs');
        for (let i = from; i < Math.min(docs.length, from + ${chunk}); i++) store.put(docs[i]);
        tx.oncomplete = () => resolve();
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    }
    const ms = performance.now() - start;
    db.close();
    await new Promise((resolve) => { const del = indexedDB.deleteDatabase(name); del.onsuccess = del.onerror = del.onblocked = () => resolve(); });
    return ms;
  })()`;
}

/** Milliseconds to put `count` records in chunks of `chunk`, in `page` (any same-origin page of the app's server). */
export async function rawPutCeiling(page: Page, count: number, chunk: number, user: { username: string; siteId: string }): Promise<number> {
  await page.goto('/api/health');
  const primary = dispenseRxJsonSchema().primaryKey;
  const indexes = dispenseRxJsonSchema().indexes.map((fields) => [...fields, primary]);
  return (await page.evaluate(rawPutScript(count, chunk, user.siteId, user.username, indexes))) as number;
}
