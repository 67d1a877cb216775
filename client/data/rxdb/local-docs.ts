/**
 * A local document of a database as it changes, looking only at local change events. RxDB's
 * getLocal$ runs two async steps for every change event of the database, records included: a
 * first pull of 100,000 records put hundreds of thousands of promises through it, and each one
 * that settled was removed from an array of the others still waiting (rxjs's arrRemove: 28 ms of
 * the page's 158 ms per 1000 pulled records in a CDP profile, growing with the size of a write).
 * It leans on RxDB's eventBulks$ marking a bulk of local documents `isLocal` with the database's
 * own without a `collectionName` (rx-local-document.ts in RxDB 17.6 filters them the same way).
 */
import { concatMap, filter, from, startWith, type Observable } from 'rxjs';
import type { RxChangeEventBulk } from 'rxdb';

/** What this needs of a database with local documents. */
interface WithLocalDocuments<L> {
  eventBulks$: Observable<RxChangeEventBulk<unknown>>;
  getLocal(id: string): Promise<L | null>;
}

/** The database's local document `id` now, then after each change of it (null while there is none). */
export function localDocument$<L>(db: WithLocalDocuments<L>, id: string): Observable<L | null> {
  return db.eventBulks$.pipe(
    filter((bulk) => !!bulk.isLocal && !bulk.collectionName && bulk.events.some((e) => e.documentId === id)),
    startWith(null),
    concatMap(() => from(db.getLocal(id))),
  );
}
