/**
 * RxDB's push handler for `dispenses`: posts a batch to /api/sync/dispenses/push and keeps what
 * the server refused, or won, in sync marks. Failures are sorted: a transport or whole-batch
 * failure (network, 401, 429, 5xx) throws a PushFailure, so RxDB keeps the rows and the scheduler decides when to try
 * again; a bad row never throws (the server lists it in `rejected`, it is set aside with its
 * reason and pushed again once edited), or RxDB would resend the same rows forever.
 */
import type { RxReplicationWriteToMasterRow, WithDeleted } from 'rxdb';
import { errorBodySchema, MAX_PUSH_ROWS, pushResponseSchema, type PushResponse, type RejectedRow } from '../../schemas/api';
import { DISPENSE_FIELDS, type Dispense } from '../../schemas/dispense';
import { conflictWinner } from './conflict';
import { markRejected, markSuperseded, updateMarks, type SyncMarkCollection } from './marks';

export type FailureKind = 'unauthorized' | 'rate-limited' | 'network' | 'server';

export class PushFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code: string | null = null,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'PushFailure';
  }
}

export interface BatchReport {
  /** Rows the server now holds in the state sent. */
  acked: number;
  rejected: RejectedRow[];
  /** Rows answered with the server's own version. */
  conflicts: number;
  /** Of those, rows where the server's version won and this device's version was set aside. */
  superseded: number;
}

export interface PushDeps {
  baseUrl: string;
  /** The site whose database this is: its records only are ever sent (site.ts). */
  siteId: string;
  /** The token of a user of `siteId`, or null (none, or a user of another site signed in). */
  getToken: () => string | null;
  deviceId: string;
  marks: SyncMarkCollection;
  /** Rows per request (default and most: MAX_PUSH_ROWS, the server's limit); a larger RxDB batch is split. */
  rowsPerRequest?: number;
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  onBatch?: (report: BatchReport) => void;
  onFailure?: (failure: PushFailure) => void;
}

const RETRY_AFTER_DEFAULT_MS = 60_000;

type WireRow = { newDocumentState: Dispense; assumedMasterState: Dispense | null };

/** The record exactly as the server's strict schema wants it: no `_deleted`, `_meta`, `_rev`. */
export function toWire(doc: WithDeleted<Dispense> | Dispense): Dispense {
  const out: Record<string, unknown> = {};
  for (const f of DISPENSE_FIELDS) if (doc[f] !== undefined) out[f] = doc[f];
  return out as Dispense;
}

/** Retry-After is seconds or an HTTP date. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number {
  if (!header) return RETRY_AFTER_DEFAULT_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? RETRY_AFTER_DEFAULT_MS : Math.max(0, at - nowMs);
}

/** The server's reason in one line: its message, then which fields and why. */
export function rejectionReason(r: RejectedRow): string {
  const issues = (r.issues ?? []).map((i) => `${i.path.join('.') || 'record'}: ${i.message}`);
  return issues.length > 0 ? `${r.message}: ${issues.join('; ')}` : r.message;
}

async function failureOf(res: Response): Promise<PushFailure> {
  let code: string | null = null;
  let message = `The server answered ${res.status}`;
  try {
    const body = errorBodySchema.safeParse(await res.json());
    if (body.success) ({ code, message } = body.data.error);
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  if (res.status === 401) return new PushFailure('unauthorized', message, code ?? 'unauthorized', 401);
  if (res.status === 429) {
    return new PushFailure('rate-limited', message, code ?? 'rate_limited', 429, retryAfterMs(res.headers.get('retry-after')));
  }
  return new PushFailure('server', message, code, res.status);
}

export function createPushHandler(deps: PushDeps) {
  const doFetch = deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const url = `${deps.baseUrl.replace(/\/$/, '')}/api/sync/dispenses/push`;

  async function post(rows: WireRow[]): Promise<PushResponse> {
    const token = deps.getToken();
    if (!token) throw new PushFailure('unauthorized', 'Not signed in', 'token_missing');
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-device-id': deps.deviceId },
        body: JSON.stringify({ rows }),
        signal: AbortSignal.timeout(deps.requestTimeoutMs ?? 60_000),
      });
    } catch (err) {
      const why = (err as Error)?.name === 'TimeoutError' ? 'the server did not answer in time' : 'no connection';
      throw new PushFailure('network', `Cannot reach the server (${why})`, 'network');
    }
    // A batch larger than a proxy or the server takes: send it in halves.
    if (res.status === 413 && rows.length > 1) {
      const half = Math.ceil(rows.length / 2);
      const [a, b] = [await post(rows.slice(0, half)), await post(rows.slice(half))];
      return { conflicts: [...a.conflicts, ...b.conflicts], rejected: [...a.rejected, ...b.rejected] };
    }
    if (res.status !== 200) throw await failureOf(res);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new PushFailure('network', 'The answer of the server was cut off', 'network');
    }
    const parsed = pushResponseSchema.safeParse(body);
    if (!parsed.success) throw new PushFailure('server', 'The server answered in an unknown format', 'bad_response', 200);
    return parsed.data;
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
      const failure = new PushFailure('server', `A record of site ${stray.newDocumentState.siteId} is in the database of site ${deps.siteId}; nothing was sent`, 'wrong_site_local');
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
      const failure = err instanceof PushFailure ? err : new PushFailure('server', String((err as Error)?.message ?? err));
      deps.onFailure?.(failure);
      throw failure;
    }

    const sent = new Map(rows.map((r) => [r.newDocumentState.externalId, r.newDocumentState]));
    const conflicts = new Map(answer.conflicts.map((d) => [d.externalId, d]));
    const rejected = new Map(answer.rejected.filter((r) => r.externalId && sent.has(r.externalId)).map((r) => [r.externalId!, r]));
    // Conflicts the server's version wins: this device's version is kept aside (superseded).
    const lost = new Set([...conflicts.values()].filter((d) => conflictWinner(sent.get(d.externalId) ?? d, d) === 'server').map((d) => d.externalId));
    // Confirmed rows need no write here: RxDB's checkpoint, stored once this batch is noted,
    // acknowledges them by range (progress.ts). Only refusals and lost conflicts are marked.
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
