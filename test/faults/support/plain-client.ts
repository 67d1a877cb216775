/**
 * A sync client in plain HTTP, for the scenarios that load or starve the server rather than a
 * browser: it keeps its records' latest local state and the server's last known state, pushes
 * the pending ones in batches as RxDB does (newDocumentState + assumedMasterState), resolves
 * conflicts with the app's own rule (client/sync/conflict.ts), waits out 429 for exactly the
 * Retry-After the server gave, backs off on 5xx and network failures, and retries until done.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflictWinner } from '../../../client/data/conflict';
import type { PushResponse } from '../../../schemas/api';
import { DISPENSE_FIELDS, type Dispense } from '../../../schemas/dispense';
import { push, Tally, type Reply } from '../../support/api';

/**
 * One version of a record, by content: updatedAt alone does not tell versions apart (two devices
 * editing the same base in the same millisecond stamp the same one).
 */
export function versionKey(d: Dispense): string {
  return JSON.stringify(DISPENSE_FIELDS.map((f) => d[f] ?? null));
}

export interface PlainClientOptions {
  name: string;
  baseUrl: string;
  token: string;
  tally: Tally;
  /** Give up (throw) after this long in one sync(). */
  deadlineMs?: number;
  /** First backoff after a 5xx or network failure; doubles up to backoffMaxMs. */
  backoffMs?: number;
  backoffMaxMs?: number;
}

export interface ClientStats {
  pushes: number;
  networkErrors: number;
  http5xx: number;
  http429: number;
  /** Shortest wait after a 429, as a share of its Retry-After (>= 1 means every one was honoured). */
  retryAfterRatio: number;
  conflicts: number;
  /** Conflicts the server's version won: the local version was replaced (by the rule, not lost). */
  serverWon: number;
  rejected: { externalId: string | null; code: string }[];
  /** Versions (versionKey) the server acknowledged holding. */
  ackedVersions: Set<string>;
  /** Conflicts answered although the assumed state was the server's (never, by the push contract: docs/decisions/field-by-field-conflicts.md). */
  conflictsOnCurrentState: number;
}

let clock = Date.now();
/** A strictly increasing ISO time across all clients of the process, so every edit is a real change. */
export function nextUpdatedAt(after?: string): string {
  clock = Math.max(clock + 1, Date.now(), after ? Date.parse(after) + 1 : 0);
  return new Date(clock).toISOString();
}

export class PlainClient {
  readonly local = new Map<string, Dispense>();
  readonly master = new Map<string, Dispense>();
  readonly pending = new Set<string>();
  readonly stats: ClientStats = {
    pushes: 0,
    networkErrors: 0,
    http5xx: 0,
    http429: 0,
    retryAfterRatio: Infinity,
    conflicts: 0,
    serverWon: 0,
    rejected: [],
    ackedVersions: new Set(),
    conflictsOnCurrentState: 0,
  };
  readonly deviceId = randomUUID();

  constructor(readonly opts: PlainClientOptions) {}

  create(doc: Dispense): void {
    this.local.set(doc.externalId, doc);
    this.pending.add(doc.externalId);
  }

  /** Takes in a record another device made and this one knows in its server state (as a pull would). */
  adopt(doc: Dispense): void {
    this.local.set(doc.externalId, doc);
    this.master.set(doc.externalId, doc);
  }

  edit(id: string, change: Partial<Dispense>): Dispense {
    const cur = this.local.get(id)!;
    const next = { ...cur, ...change, updatedAt: nextUpdatedAt(cur.updatedAt) };
    this.local.set(id, next);
    this.pending.add(id);
    return next;
  }

  /** Pushes every pending record, in batches, until none is pending. */
  async sync(batchSize = 100): Promise<void> {
    const deadline = Date.now() + (this.opts.deadlineMs ?? 120_000);
    let backoff = this.opts.backoffMs ?? 100;
    while (this.pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.opts.name}: ${this.pending.size} records still pending at the deadline`);
      const ids = [...this.pending].slice(0, batchSize);
      const docs = ids.map((id) => this.local.get(id)!);
      const body = { rows: docs.map((d) => ({ newDocumentState: d, assumedMasterState: this.master.get(d.externalId) ?? null })) };
      let r: Reply<PushResponse>;
      this.stats.pushes++;
      try {
        r = await push(this.opts.baseUrl, this.opts.token, body, { tally: this.opts.tally, headers: { 'x-device-id': this.deviceId } });
      } catch {
        this.stats.networkErrors++;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.backoffMaxMs ?? 2000);
        continue;
      }
      if (r.status === 429) {
        this.stats.http429++;
        const seconds = Number(r.headers.get('retry-after'));
        if (!(seconds > 0)) throw new Error(`${this.opts.name}: 429 without a usable Retry-After (${r.headers.get('retry-after')})`);
        const start = Date.now();
        await sleep(seconds * 1000);
        this.stats.retryAfterRatio = Math.min(this.stats.retryAfterRatio, (Date.now() - start) / (seconds * 1000));
        continue;
      }
      if (r.status >= 500) {
        this.stats.http5xx++;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.backoffMaxMs ?? 2000);
        continue;
      }
      if (r.status !== 200) throw new Error(`${this.opts.name}: push answered ${r.status} ${r.text.slice(0, 300)}`);
      backoff = this.opts.backoffMs ?? 100;
      this.settle(body.rows, r.body);
    }
  }

  /** What a 200 means for each row sent: acknowledged, rejected, or a conflict to resolve. */
  private settle(sent: { newDocumentState: Dispense; assumedMasterState: Dispense | null }[], answer: PushResponse): void {
    const conflicts = new Map(answer.conflicts.map((d) => [d.externalId, d]));
    const rejected = new Map(answer.rejected.map((r) => [r.externalId, r]));
    for (const { newDocumentState: doc, assumedMasterState: assumed } of sent) {
      const id = doc.externalId;
      const server = conflicts.get(id);
      if (server) {
        this.stats.conflicts++;
        if (assumed && assumed.updatedAt === server.updatedAt) this.stats.conflictsOnCurrentState++;
        this.master.set(id, server);
        if (conflictWinner(doc, server) === 'server') {
          this.stats.serverWon++;
          // The record may have been edited locally meanwhile; only the version sent is replaced.
          if (this.local.get(id) === doc) {
            this.local.set(id, server);
            this.pending.delete(id);
          }
        }
        continue; // the local version won: pushed again over the server's, next batch
      }
      const refusal = rejected.get(id);
      if (refusal) {
        this.stats.rejected.push({ externalId: refusal.externalId, code: refusal.code });
        this.pending.delete(id);
        continue;
      }
      this.stats.ackedVersions.add(versionKey(doc));
      this.master.set(id, doc);
      if (this.local.get(id) === doc) this.pending.delete(id);
    }
  }
}
