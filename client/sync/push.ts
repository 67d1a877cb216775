/**
 * RxDB's push handler for `dispenses`: posts a batch to /api/sync/dispenses/push and keeps what
 * the server refused, or won, in sync marks. Failures are sorted: a transport or whole-batch
 * failure (network, 401, 429, 5xx) throws a SyncFailure (http.ts), so RxDB keeps the rows and
 * the scheduler decides when to try again; a bad row never throws (the server lists it in `rejected`, it is set aside with its
 * reason and pushed again once edited), or RxDB would resend the same rows forever.
 */
import type { RxReplicationWriteToMasterRow, WithDeleted } from 'rxdb';
import { MAX_PUSH_ROWS, pushResponseSchema, type PushResponse, type RejectedRow } from '../../schemas/api';
import { DISPENSE_FIELDS, type Dispense } from '../../schemas/dispense';
import { conflictWinner } from '../data/conflict';
import { SyncFailure, syncRequest, type SyncHttpDeps } from './http';
import { markRejected, markSuperseded, updateMarks, type SyncMarkCollection } from '../data/marks';

export interface BatchReport {
  /** Rows the server now holds in the state sent. */
  acked: number;
  rejected: RejectedRow[];
  /** Rows answered with the server's own version. */
  conflicts: number;
  /** Of those, rows where the server's version won and this device's version was set aside. */
  superseded: number;
}

export interface PushDeps extends SyncHttpDeps {
  /** The site whose database this is: its records only are ever sent (site.ts). */
  siteId: string;
  marks: SyncMarkCollection;
  /** Rows per request (default and most: MAX_PUSH_ROWS, the server's limit); a larger RxDB batch is split. */
  rowsPerRequest?: number;
  onBatch?: (report: BatchReport) => void;
  onFailure?: (failure: SyncFailure) => void;
}

type WireRow = { newDocumentState: Dispense; assumedMasterState: Dispense | null };

/** The record exactly as the server's strict schema wants it: no `_deleted`, `_meta`, `_rev`. */
export function toWire(doc: WithDeleted<Dispense> | Dispense): Dispense {
  const out: Record<string, unknown> = {};
  for (const f of DISPENSE_FIELDS) if (doc[f] !== undefined) out[f] = doc[f];
  return out as Dispense;
}

/** The server's reason in one line: its message, then which fields and why. */
export function rejectionReason(r: RejectedRow): string {
  const issues = (r.issues ?? []).map((i) => `${i.path.join('.') || 'record'}: ${i.message}`);
  return issues.length > 0 ? `${r.message}: ${issues.join('; ')}` : r.message;
}

export function createPushHandler(deps: PushDeps) {
  async function post(rows: WireRow[]): Promise<PushResponse> {
    return syncRequest(deps, '/api/sync/dispenses/push', pushResponseSchema, {
      method: 'POST',
      body: { rows },
      // A batch larger than a proxy or the server takes: send it in halves.
      onStatus: (res) => (res.status === 413 && rows.length > 1 ? postInHalves(rows) : null),
    });
  }

  async function postInHalves(rows: WireRow[]): Promise<PushResponse> {
    const half = Math.ceil(rows.length / 2);
    const [a, b] = [await post(rows.slice(0, half)), await post(rows.slice(half))];
    return { conflicts: [...a.conflicts, ...b.conflicts], rejected: [...a.rejected, ...b.rejected] };
  }

  async function handler(rxRows: RxReplicationWriteToMasterRow<Dispense>[]): Promise<WithDeleted<Dispense>[]> {
    // Records are never deleted; a deleted row (not made by this app) is not sent.
    const rows = rxRows
      .filter((r) => !r.newDocumentState._deleted)
      .map((r) => ({
        newDocumentState: toWire(r.newDocumentState),
        assumedMasterState: r.assumedMasterState && !r.assumedMasterState._deleted ? toWire(r.assumedMasterState) : null,
      }));
    if (rows.length === 0) return [];
    // A site's database holds the site's records only; a stray one must not go with this site's
    // token (the server would refuse it and the checkpoint pass it): the run fails, nothing moves.
    const stray = rows.find((r) => r.newDocumentState.siteId !== deps.siteId);
    if (stray) {
      const failure = new SyncFailure(
        'server',
        `A record of site ${stray.newDocumentState.siteId} is in the database of site ${deps.siteId}; nothing was sent`,
        'wrong_site_local',
      );
      deps.onFailure?.(failure);
      throw failure;
    }
    let answer: PushResponse;
    try {
      // RxDB's batch in requests of at most `rowsPerRequest` (the server takes up to 1000), all
      // in flight together: the server works on one while it reads the next. A failure of any
      // fails the batch; RxDB sends all of it again and the server writes nothing twice.
      const size = deps.rowsPerRequest ?? MAX_PUSH_ROWS;
      const answers = await Promise.all(Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => post(rows.slice(i * size, (i + 1) * size))));
      answer = { conflicts: answers.flatMap((a) => a.conflicts), rejected: answers.flatMap((a) => a.rejected) };
    } catch (err) {
      const failure = err instanceof SyncFailure ? err : new SyncFailure('server', String((err as Error)?.message ?? err));
      deps.onFailure?.(failure);
      throw failure;
    }

    const sent = new Map(rows.map((r) => [r.newDocumentState.externalId, r.newDocumentState]));
    const conflicts = new Map(answer.conflicts.map((d) => [d.externalId, d]));
    const rejected = new Map(answer.rejected.filter((r) => r.externalId && sent.has(r.externalId)).map((r) => [r.externalId!, r]));
    // Conflicts the server's version wins: this device's version is kept aside (superseded).
    const lost = new Set([...conflicts.values()].filter((d) => conflictWinner(sent.get(d.externalId) ?? d, d) === 'server').map((d) => d.externalId));
    // Confirmed rows need no write here: RxDB's checkpoint, stored once this batch is noted,
    // acknowledges them by range (run.ts, step 5). Only refusals and lost conflicts are marked.
    const now = new Date().toISOString();
    const exceptions = [...sent.keys()].filter((id) => rejected.has(id) || lost.has(id));
    await updateMarks(deps.marks, exceptions, (m, id) => {
      const local = sent.get(id)!;
      const server = conflicts.get(id);
      if (server) return markSuperseded(local, server, now);
      const refusal = rejected.get(id)!;
      return markRejected(m, id, local.updatedAt, refusal.code, rejectionReason(refusal), now);
    });
    deps.onBatch?.({
      acked: Math.max(0, rows.length - conflicts.size - answer.rejected.length),
      rejected: answer.rejected,
      conflicts: conflicts.size,
      superseded: lost.size,
    });
    return answer.conflicts.map((d) => ({ ...d, _deleted: false }));
  }

  return handler;
}
