/**
 * The RxDB adapter's public face: what the rest of the client uses of RxDB's and its Dexie
 * storage's internals, and nothing below it. Each file here leans on one part of those internals
 * and says which (docs/decisions/rxdb-internals.md); assumptions.ts holds the version they were
 * checked against.
 */
export { checkRxdbVersion, isDexieStorage, RxdbInternalsChanged, WRITTEN_FOR_RXDB, type AnyRxStorage, type AnyStorageInstance } from './assumptions';
export { browserIndexedDb, deleteIndexedDbs, recordsIndexedDbExists, recordsIndexedDbName } from './names';
export { countAfter, countAfterBeforeOpen, firstAfter, idsAfter, idsUpTo, isAfter, storedAfter, type ChangesCheckpoint } from './push-order';
export { readAll, readByIds, newestFirst$, storedDocs$, withoutMeta } from './index-read';
export { withIndexReads, withLocalReplicationMeta } from './storage-patches';
export { checkpointWritten, pushesUnderWaySettled, replicationMetaOpen, watchPushCheckpoint } from './replication-meta';
export { checkPullWrites } from './pull-write-filter';
export { madeHerePage, markForResend } from './resend-meta';
