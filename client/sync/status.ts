/**
 * The sync panel's state and words, as pure functions of the leader's runs: a run's result
 * becomes an outcome for the scheduler and a new record of runs (afterRun), and the record with
 * the scheduler's snapshot becomes the status every tab shows (statusOf). No RxDB, no clock of its
 * own: unit-tested alone (status.test.ts). tabs.ts carries the status to every tab.
 */
import type { SyncState, SyncStatusFields } from '../stores/sync-status';
import type { SyncFailure } from './http';
import type { BatchReport } from './push';
import type { RunOutcome, SchedulerSnapshot } from './scheduler-types';
import type { PublishedStatus } from './tabs';

export type { PublishedStatus } from './tabs';

/** What one run did: the sum of its push batches' answers, and what its pull wrote. */
export interface RunReport {
  acked: number;
  /** Records the pull wrote here: changes made on other devices of the site (one this device holds as it is is not counted). */
  received: number;
  rejected: BatchReport['rejected'];
  conflicts: number;
  superseded: number;
}

export const emptyReport = (): RunReport => ({ acked: 0, received: 0, rejected: [], conflicts: 0, superseded: 0 });

/** A push batch's answer, added to the run's report. */
export function addBatch(r: RunReport, b: BatchReport): void {
  r.acked += b.acked;
  r.rejected.push(...b.rejected);
  r.conflicts += b.conflicts;
  r.superseded += b.superseded;
}

export type RunResult = { ok: true; report: RunReport } | { ok: false; failure: SyncFailure; report: RunReport };

/** The leader's record of its runs: with the scheduler's snapshot, all the status is made of. */
export interface RunRecord {
  needsSignIn: boolean;
  /** What the last run failed on, if it failed. */
  failed: 'network' | 'server' | null;
  lastSyncAt: string | null;
  lastResult: string | null;
  lastError: string | null;
  handledRequestId: string | null;
}

/** A new leader's record: the last sync and result carried over a reload or a change of leader. */
export function firstRecord(previous: PublishedStatus | null): RunRecord {
  return {
    needsSignIn: false,
    failed: null,
    lastSyncAt: previous?.lastSyncAt ?? null,
    lastResult: previous?.lastResult ?? null,
    lastError: null,
    handledRequestId: previous?.handledRequestId ?? null,
  };
}

export interface StateInputs {
  running: boolean;
  online: boolean;
  enabled: boolean;
  needsSignIn: boolean;
  failed: RunRecord['failed'];
}

export function deriveState(s: StateInputs): SyncState {
  if (s.running) return 'syncing';
  if (!s.online || s.failed === 'network') return 'offline';
  // Not an error: the records are safe here, and a sign-in sends them.
  if (s.needsSignIn) return 'sign-in';
  if (s.failed === 'server') return 'error';
  return s.enabled ? 'ready' : 'paused';
}

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/**
 * "Synced 12 records", with what was rejected or superseded; never "synced" when nothing moved,
 * and never "nothing new to send" when this device sent changes the server refused or held a
 * newer version of.
 */
export function describeRun(r: RunReport, failed: boolean): string {
  const parts: string[] = [];
  const sentButNotTaken = r.rejected.length + r.superseded > 0;
  if (failed) parts.push(r.acked > 0 ? `Synced ${records(r.acked)}, then stopped` : 'Nothing sent');
  else if (r.acked > 0) parts.push(`Synced ${records(r.acked)}`);
  else if (!sentButNotTaken) parts.push('Nothing new to send');
  if (r.received > 0) parts.push(`received ${records(r.received)}`);
  if (r.rejected.length > 0) parts.push(`${records(r.rejected.length)} rejected by the server`);
  if (r.superseded > 0) {
    const which = r.superseded === 1 ? "the record's" : "each record's";
    parts.push(
      `${records(r.superseded)} replaced by a newer version from the server; this device's version is kept here, not on the server: see ${which} History to apply it again`,
    );
  }
  const text = parts.join('; ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * What a run's result means for the scheduler: `null` is a run not attempted for want of a token.
 * Network failures and 5xx are retried with backoff, a 429 after the server's Retry-After, a 401
 * waits for a new sign-in.
 */
export function outcomeOf(result: RunResult | null): RunOutcome {
  if (!result) return { kind: 'unauthorized' };
  if (result.ok) return { kind: 'ok' };
  const f = result.failure;
  switch (f.kind) {
    case 'unauthorized':
      return { kind: 'unauthorized' };
    case 'rate-limited':
      return { kind: 'rate-limited', retryAfterMs: f.retryAfterMs ?? 60_000 };
    case 'network':
      return { kind: 'retry', reason: 'network' };
    default:
      return { kind: 'retry', reason: 'server' };
  }
}

/** The record after a run that ended with `outcome` (`result` null: not attempted, no token). */
export function afterRun(record: RunRecord, outcome: RunOutcome, result: RunResult | null, now: Date): RunRecord {
  const report = result?.report;
  const failure = result && !result.ok ? result.failure : null;
  const stopped = report ? describeRun(report, true) : record.lastResult;
  switch (outcome.kind) {
    case 'ok':
      return {
        ...record,
        needsSignIn: false,
        failed: null,
        lastError: null,
        lastSyncAt: now.toISOString(),
        lastResult: report ? describeRun(report, false) : null,
      };
    case 'unauthorized':
      return {
        ...record,
        needsSignIn: true,
        failed: null,
        lastResult: stopped,
        lastError: failure
          ? `The server did not accept the session (${failure.code ?? 'unauthorized'}): sign in again. Records stay on this device.`
          : 'Not signed in: sign in to sync. Records stay on this device.',
      };
    case 'rate-limited':
      return {
        ...record,
        failed: 'server',
        lastResult: stopped,
        lastError: `The server is busy (${failure?.message ?? 'too many requests'}); waiting as it asked.`,
      };
    case 'retry':
      return { ...record, failed: outcome.reason, lastResult: stopped, lastError: failure?.message ?? 'Sync failed' };
    case 'skipped':
      return record;
  }
}

/** The status every tab shows, from the leader's record and its scheduler's snapshot. */
export function statusOf(record: RunRecord, snap: Pick<SchedulerSnapshot, 'running' | 'enabled' | 'nextRunAt'>, online: boolean): PublishedStatus {
  return {
    state: deriveState({ ...record, running: snap.running, online, enabled: snap.enabled }),
    lastSyncAt: record.lastSyncAt,
    lastResult: record.lastResult,
    lastError: record.lastError,
    nextTryAt: snap.nextRunAt === null ? null : new Date(snap.nextRunAt).toISOString(),
    needsSignIn: record.needsSignIn,
    handledRequestId: record.handledRequestId,
  };
}

/** A tab that does not lead shows the leader's status, but knows itself whether it is offline. */
export function mirrorStatus(p: PublishedStatus, online: boolean): Partial<SyncStatusFields> {
  const { handledRequestId: _ignored, ...fields } = p;
  return { ...fields, state: !online && p.state !== 'syncing' ? 'offline' : p.state, isLeader: false };
}
