import { SyncFailure, type FailureKind } from './http';
import type { RunOutcome } from './scheduler';
import {
  afterRun,
  deriveState,
  describeRun,
  firstRecord,
  mirrorStatus,
  outcomeOf,
  statusOf,
  type PublishedStatus,
  type RunRecord,
  type RunResult,
} from './status';

const idle = { running: false, online: true, enabled: true, needsSignIn: false, failed: null };

test('the state says syncing during a run, then offline, sign in to send (no error: the records are safe), error, paused or ready, in that order', () => {
  expect(deriveState({ ...idle, running: true, online: false })).toBe('syncing');
  expect(deriveState({ ...idle, online: false })).toBe('offline');
  expect(deriveState({ ...idle, failed: 'network' })).toBe('offline');
  expect(deriveState({ ...idle, failed: 'server' })).toBe('error');
  expect(deriveState({ ...idle, needsSignIn: true, enabled: false })).toBe('sign-in');
  expect(deriveState({ ...idle, needsSignIn: true, failed: 'server' })).toBe('sign-in');
  expect(deriveState({ ...idle, enabled: false })).toBe('paused');
  expect(deriveState(idle)).toBe('ready');
});

test('the result of a run counts what moved and never claims a sync when nothing was sent', () => {
  const report = { acked: 0, received: 0, rejected: [], conflicts: 0, superseded: 0 };
  expect(describeRun({ ...report, acked: 12 }, false)).toBe('Synced 12 records');
  expect(describeRun({ ...report, acked: 1 }, false)).toBe('Synced 1 record');
  expect(describeRun(report, false)).toBe('Nothing new to send');
  expect(describeRun(report, true)).toBe('Nothing sent');
  expect(describeRun({ ...report, acked: 500 }, true)).toBe('Synced 500 records, then stopped');
  expect(describeRun({ ...report, received: 7 }, false)).toBe('Nothing new to send; received 7 records');
  expect(describeRun({ ...report, acked: 1, received: 1 }, false)).toBe('Synced 1 record; received 1 record');
  // Sent, but the server held a newer version: not "nothing new to send", and where this device's version went is said.
  const kept = "this device's version is kept here, not on the server: see the record's History to apply it again";
  expect(describeRun({ ...report, superseded: 1 }, false)).toBe(`1 record replaced by a newer version from the server; ${kept}`);
  expect(describeRun({ ...report, superseded: 1, received: 2 }, false)).toBe(
    `Received 2 records; 1 record replaced by a newer version from the server; ${kept}`,
  );
  expect(describeRun({ ...report, acked: 2, rejected: [{ externalId: 'x', code: 'c', message: 'm' }], superseded: 1 }, false)).toBe(
    `Synced 2 records; 1 record rejected by the server; 1 record replaced by a newer version from the server; ${kept}`,
  );
  expect(describeRun({ ...report, superseded: 2 }, false)).toMatch(/^2 records replaced .* see each record's History to apply it again$/);
});

test("a tab that does not lead shows the leader's status, but offline when its own browser is offline", () => {
  const p: PublishedStatus = {
    state: 'ready',
    lastSyncAt: null,
    lastResult: 'Synced 3 records',
    lastError: null,
    nextTryAt: null,
    needsSignIn: false,
    handledRequestId: 'r1',
  };
  expect(mirrorStatus(p, true)).toEqual({
    state: 'ready',
    lastSyncAt: null,
    lastResult: 'Synced 3 records',
    lastError: null,
    nextTryAt: null,
    needsSignIn: false,
    isLeader: false,
  });
  expect(mirrorStatus(p, false).state).toBe('offline');
  expect(mirrorStatus({ ...p, state: 'syncing' }, false).state).toBe('syncing');
});

describe('after a run', () => {
  const report = { acked: 3, received: 0, rejected: [], conflicts: 0, superseded: 0 };
  const record = firstRecord({
    state: 'ready',
    lastSyncAt: '2026-11-29T10:00:00.000Z',
    lastResult: 'Synced 1 record',
    lastError: 'old',
    nextTryAt: null,
    needsSignIn: true,
    handledRequestId: 'r1',
  });
  const now = new Date('2026-11-30T09:00:00.000Z');
  const failed = (kind: FailureKind, message: string, code: string | null = null, retryAfterMs: number | null = null): RunResult => ({
    ok: false,
    failure: new SyncFailure(kind, message, code, null, retryAfterMs),
    report: { ...report, acked: 0 },
  });

  test('a new leader carries the last sync, its result and the handled request over, but not the error', () => {
    expect(record).toEqual({
      needsSignIn: false,
      failed: null,
      lastSyncAt: '2026-11-29T10:00:00.000Z',
      lastResult: 'Synced 1 record',
      lastError: null,
      handledRequestId: 'r1',
    });
  });

  test.each<[string, RunResult | null, RunOutcome, Partial<RunRecord>]>([
    [
      'a run in sync',
      { ok: true, report },
      { kind: 'ok' },
      { lastSyncAt: now.toISOString(), lastResult: 'Synced 3 records', failed: null, lastError: null },
    ],
    [
      'no token',
      null,
      { kind: 'unauthorized' },
      { needsSignIn: true, lastResult: 'Synced 1 record', lastError: 'Not signed in: sign in to sync. Records stay on this device.' },
    ],
    [
      'a 401',
      failed('unauthorized', 'Token expired', 'token_expired'),
      { kind: 'unauthorized' },
      {
        needsSignIn: true,
        lastResult: 'Nothing sent',
        lastError: 'The server did not accept the session (token_expired): sign in again. Records stay on this device.',
      },
    ],
    [
      'a 429',
      failed('rate-limited', 'Too many pushes.', 'rate_limited', 30_000),
      { kind: 'rate-limited', retryAfterMs: 30_000 },
      {
        failed: 'server',
        lastError: 'The server is busy (Too many pushes.); waiting as it asked.',
      },
    ],
    [
      'no connection',
      failed('network', 'Cannot reach the server (no connection)'),
      { kind: 'retry', reason: 'network' },
      {
        failed: 'network',
        lastError: 'Cannot reach the server (no connection)',
      },
    ],
    [
      'a 5xx',
      failed('server', 'The server answered 503'),
      { kind: 'retry', reason: 'server' },
      { failed: 'server', lastError: 'The server answered 503' },
    ],
  ])('%s: the outcome for the scheduler and the record in words', (_name, result, outcome, expected) => {
    expect(outcomeOf(result)).toEqual(outcome);
    const next = afterRun(record, outcome, result, now);
    expect(next).toMatchObject(expected);
    expect(next.lastSyncAt).toBe(outcome.kind === 'ok' ? now.toISOString() : record.lastSyncAt); // only a run in sync is a sync
  });

  test('a run this tab did not make (another leads) changes nothing', () => {
    expect(afterRun(record, { kind: 'skipped' }, null, now)).toBe(record);
  });

  test('the status: state from the record, the run and the network; the next try from the scheduler', () => {
    const idleSnap = { running: false, enabled: true, nextRunAt: Date.parse('2026-11-30T09:05:00.000Z') };
    expect(statusOf(record, idleSnap, true)).toEqual({
      state: 'ready',
      lastSyncAt: record.lastSyncAt,
      lastResult: record.lastResult,
      lastError: null,
      nextTryAt: '2026-11-30T09:05:00.000Z',
      needsSignIn: false,
      handledRequestId: 'r1',
    });
    expect(statusOf({ ...record, failed: 'network' }, { ...idleSnap, nextRunAt: null }, true)).toMatchObject({ state: 'offline', nextTryAt: null });
    expect(statusOf(record, { ...idleSnap, running: true }, false).state).toBe('syncing');
    expect(statusOf({ ...record, needsSignIn: true }, { ...idleSnap, enabled: false }, true).state).toBe('sign-in');
  });
});
