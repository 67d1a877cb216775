/** The sync module's public face: the UI starts and stops sync here. */
export { startSync, type SyncController, type SyncDeps } from './start';
export { conflictWinner } from './conflict';
