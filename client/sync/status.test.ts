import { deriveState, describeRun, mirrorStatus, type PublishedStatus } from './status';

const idle = { running: false, online: true, enabled: true, needsSignIn: false, failed: null };

test('the state says syncing during a run, then offline, error, paused or ready, in that order', () => {
  expect(deriveState({ ...idle, running: true, online: false })).toBe('syncing');
  expect(deriveState({ ...idle, online: false })).toBe('offline');
  expect(deriveState({ ...idle, failed: 'network' })).toBe('offline');
  expect(deriveState({ ...idle, failed: 'server' })).toBe('error');
  expect(deriveState({ ...idle, needsSignIn: true, enabled: false })).toBe('error');
  expect(deriveState({ ...idle, enabled: false })).toBe('paused');
  expect(deriveState(idle)).toBe('ready');
});

test('the result of a run counts what moved and never claims a sync when nothing was sent', () => {
  const report = { acked: 0, rejected: [], conflicts: 0, superseded: 0 };
  expect(describeRun({ ...report, acked: 12 }, false)).toBe('Synced 12 records');
  expect(describeRun({ ...report, acked: 1 }, false)).toBe('Synced 1 record');
  expect(describeRun(report, false)).toBe('Nothing new to send');
  expect(describeRun(report, true)).toBe('Nothing sent');
  expect(describeRun({ ...report, acked: 500 }, true)).toBe('Synced 500 records, then stopped');
  expect(describeRun({ ...report, acked: 2, rejected: [{ externalId: 'x', code: 'c', message: 'm' }], superseded: 1 }, false)).toBe(
    "Synced 2 records; 1 record rejected by the server; 1 record replaced by a newer version from the server (this device's version is kept)",
  );
});

test("a tab that does not lead shows the leader's status, but offline when its own browser is offline", () => {
  const p: PublishedStatus = {
    state: 'ready', lastSyncAt: null, lastResult: 'Synced 3 records', lastError: null, nextTryAt: null, needsSignIn: false, handledRequestId: 'r1',
  };
  expect(mirrorStatus(p, true)).toEqual({ state: 'ready', lastSyncAt: null, lastResult: 'Synced 3 records', lastError: null, nextTryAt: null, needsSignIn: false, isLeader: false });
  expect(mirrorStatus(p, false).state).toBe('offline');
  expect(mirrorStatus({ ...p, state: 'syncing' }, false).state).toBe('syncing');
});
