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
  /**
   * Resolves once the pushes under way when a page arrives are answered and noted (replication.ts):
   * RxDB writes the page only then. See `createPullHandler`.
   */
  pushesSettled?: () => Promise<unknown>;
}

export const DEFAULT_PULL_BATCH = MAX_PULL_ROWS;

/** The server's checkpoint in an object: RxDB merges checkpoints with Object.assign, which would spread a string. */
export interface PullCheckpoint {
  server: string;
}

/**
 * A page is handed to RxDB only once the pushes under way when it arrived are answered and noted.
 * RxDB's pull leaves alone a record whose local version is not yet noted as the server's (an
 * unpushed change, which the push settles with the conflict rule) and moves its checkpoint past
 * it. If a push of that record was answered before the page's version was written on the server,
 * but its answer is noted after the pull looked, nothing settles it: the push met no conflict, the
 * pull's checkpoint is past the newer version, and the device keeps its older one while the server
 * holds another device's edit (the ack-lost fault scenario saw it about one run in three). Any push
 * answered before the page's version was written was sent before the page arrived, so it is among
 * those waited for; a push sent later meets that version on the server as a conflict.
 */
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
      await deps.pushesSettled?.();
      // A version older than the one this device holds is refused as RxDB writes it (stale-pulls.ts).
      return { documents: answer.documents.map((d) => ({ ...d, _deleted: false })), checkpoint: { server: answer.checkpoint } };
    } catch (err) {
      const failure = err instanceof SyncFailure ? err : new SyncFailure('server', String((err as Error)?.message ?? err));
      deps.onFailure?.(failure);
      throw failure;
    }
  };
}
