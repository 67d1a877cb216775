/**
 * RxDB's pull handler for `dispenses`: the site's records changed since the checkpoint, from
 * /api/sync/dispenses/pull, in the server's change order. The checkpoint is the server's opaque
 * text; RxDB keeps it in its replication meta, so a reload or a lost answer resumes from the last
 * batch it wrote. A failure is a SyncFailure (http.ts), reported once and thrown, so the run ends.
 */
import type { WithDeleted } from 'rxdb';
import { MAX_PULL_ROWS, pullResponseSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { SyncFailure, syncRequest, type SyncHttpDeps } from './http';

export interface PullDeps extends SyncHttpDeps {
  onFailure?: (failure: SyncFailure) => void;
  /** During a first pull: how many of the window's records the server has sent, of how many. */
  onWindow?: (progress: { sent: number; total: number }) => void;
}

export const DEFAULT_PULL_BATCH = MAX_PULL_ROWS;

/** The server's checkpoint in an object: RxDB merges checkpoints with Object.assign, which would spread a string. */
export interface PullCheckpoint {
  server: string;
}

export function createPullHandler(deps: PullDeps) {
  return async (
    checkpoint: PullCheckpoint | undefined,
    batchSize: number,
  ): Promise<{ documents: WithDeleted<Dispense>[]; checkpoint: PullCheckpoint }> => {
    const query = new URLSearchParams({ limit: String(Math.min(batchSize, MAX_PULL_ROWS)) });
    if (checkpoint?.server) query.set('checkpoint', checkpoint.server);
    try {
      const answer = await syncRequest(deps, `/api/sync/dispenses/pull?${query}`, pullResponseSchema, { method: 'GET' });
      if (answer.window) deps.onWindow?.(answer.window);
      // A version older than the one this device holds is refused as RxDB writes it (stale-pulls.ts).
      return { documents: answer.documents.map((d) => ({ ...d, _deleted: false })), checkpoint: { server: answer.checkpoint } };
    } catch (err) {
      const failure = err instanceof SyncFailure ? err : new SyncFailure('server', String((err as Error)?.message ?? err));
      deps.onFailure?.(failure);
      throw failure;
    }
  };
}
