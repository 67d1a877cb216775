/**
 * The push side of RxDB's replication, seen from its meta storage and its queues: the push
 * checkpoint RxDB stores, and when its upstream work is done. It leans on the replication's
 * `metaInstance` (a storage instance RxDB makes on start()) and its push checkpoint document
 * 'up|1' holding `checkpointData` (the `{ id, lwt }` of the Dexie storage's changes), and on the
 * private `internalReplicationState` with its `checkpointQueue` and `streamQueue.up` promises
 * (upstream.ts in RxDB 17.6). Each is checked before use.
 */
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { assume } from './assumptions';
import type { ChangesCheckpoint } from './push-order';

/** RxDB's meta document of the push checkpoint: itemId 'up', isCheckpoint '1' ('up|1'). */
const PUSH_CHECKPOINT_DOC = 'up|1';

function checkpointOf(data: unknown): ChangesCheckpoint | null {
  if (data === undefined || data === null) return null;
  const cp = data as Partial<ChangesCheckpoint>;
  assume(typeof cp.id === 'string' && typeof cp.lwt === 'number', "the push checkpoint is { id, lwt } (RxDB's changes of the Dexie storage)");
  return { id: cp.id, lwt: cp.lwt };
}

/** Has the replication opened its meta storage (it does on its first start())? */
export function replicationMetaOpen<T, C>(state: RxReplicationState<T, C>): boolean {
  return !!state.metaInstance;
}

/**
 * RxDB's push checkpoint as stored in the replication's meta: after each write of it, and when
 * read() is called. RxDB stores it once the server answered a batch and the batch is noted.
 * Call once the replication has started (it makes its meta then).
 */
export function watchPushCheckpoint<T, C>(state: RxReplicationState<T, C>, onCheckpoint: (cp: ChangesCheckpoint | null, exact: boolean) => void) {
  const meta = state.metaInstance;
  assume(meta && typeof meta.changeStream === 'function', 'a started replication has its metaInstance');
  const sub = meta.changeStream().subscribe((bulk) => {
    for (const e of bulk.events) {
      if (e.documentId !== PUSH_CHECKPOINT_DOC) continue;
      const cp = checkpointOf((e.documentData as { checkpointData?: unknown }).checkpointData);
      if (cp) onCheckpoint(cp, false);
    }
  });
  return {
    sub,
    read: async () => {
      const [doc] = await meta.findDocumentsById([PUSH_CHECKPOINT_DOC], false);
      assume(!doc || (doc as { itemId?: string }).itemId === 'up', `the push checkpoint's meta document is '${PUSH_CHECKPOINT_DOC}'`);
      onCheckpoint(checkpointOf((doc as { checkpointData?: unknown } | undefined)?.checkpointData), true);
    },
  };
}

/**
 * Resolves once RxDB has written the checkpoint of what it pushed so far: awaitInSync() does not
 * wait for that write, which RxDB queues on its internal `checkpointQueue`.
 */
export function checkpointWritten<T, C>(state: RxReplicationState<T, C>): Promise<unknown> {
  const queue = (state as unknown as { internalReplicationState?: { checkpointQueue?: Promise<unknown> } }).internalReplicationState?.checkpointQueue;
  assume(queue && typeof queue.then === 'function', 'a started replication queues its checkpoint writes on internalReplicationState.checkpointQueue');
  return queue;
}

/**
 * Resolves once every push RxDB's upstream has under way now is answered and noted in its meta
 * (assumed server states written, conflicts resolved). RxDB queues all of its upstream work, its
 * first pass and each later batch, on `streamQueue.up`; the promise there now covers what is
 * queued now, not what comes later.
 */
export function pushesUnderWaySettled<T, C>(state: RxReplicationState<T, C>): Promise<unknown> {
  const queue = (state as unknown as { internalReplicationState?: { streamQueue?: { up?: Promise<unknown> } } }).internalReplicationState?.streamQueue
    ?.up;
  assume(queue && typeof queue.then === 'function', 'a started replication queues its upstream work on internalReplicationState.streamQueue.up');
  return queue;
}
