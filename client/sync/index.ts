/**
 * The sync module's public face: the app starts and stops sync, reads what is pending and each
 * shown record's state, and names what sync keeps per database, from here only.
 */
export { startSync } from './run';
export type { SyncController, SyncDeps } from './run-types';
export { isNewDeviceOfBusySite } from './first-pull';
export { conflictWinner } from '../data/conflict';
export { checkpointKey } from './checkpoint';
export { countBeforeOpen, warmUp } from './pending';
export { recordSyncStatesOf$, type RecordSyncState } from './record-states';
export { forgetKept, keptChanges, keptVersion$ } from './kept';
