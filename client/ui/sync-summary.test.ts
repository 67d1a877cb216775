import { INITIAL_SYNC_STATUS } from '../stores/sync-status';
import { summary } from './sync-summary';

const status = (over: Partial<typeof INITIAL_SYNC_STATUS>) => ({ ...INITIAL_SYNC_STATUS, ...over });

describe('the sync summary line', () => {
  test('while anything is pending it gives the count and never says synced', () => {
    for (const state of ['ready', 'syncing', 'offline', 'error', 'paused'] as const) {
      const line = summary(status({ state, pendingCount: 3, lastSyncAt: '2026-11-25T09:00:00.000Z' }), true);
      expect(line).toContain('3 pending');
      expect(line).not.toMatch(/synced/i);
    }
  });

  test('before the local counts are read it says it is counting, not synced', () => {
    expect(summary(status({ lastSyncAt: '2026-11-25T09:00:00.000Z' }), false)).toBe('Ready · counting…');
  });

  test('a pending count read before the rejected records is shown; zero pending then is not called synced', () => {
    expect(summary(status({ pendingKnown: true, pendingCount: 100000 }), false)).toBe('Ready · 100000 pending');
    expect(summary(status({ pendingKnown: true, pendingCount: 0, lastSyncAt: '2026-11-25T09:00:00.000Z' }), false)).toBe('Ready · counting…');
  });

  test('with nothing pending after a sync it says all synced; rejected records are named', () => {
    expect(summary(status({ lastSyncAt: '2026-11-25T09:00:00.000Z' }), true)).toBe('Ready · all synced');
    const rejected = [
      {
        externalId: 'x',
        code: 'invalid_record',
        message: 'bad',
        patientId: 'P-1',
        medicationName: 'Amoxicillin',
        dispensedAt: '2026-11-25T08:00:00.000Z',
        voided: false,
      },
    ];
    expect(summary(status({ rejected, lastSyncAt: '2026-11-25T09:00:00.000Z' }), true)).toBe('Ready · 1 rejected');
    expect(summary(status({ rejected, pendingCount: 2 }), true)).toBe('Ready · 2 pending · 1 rejected');
  });

  test('when a sign-in is needed to send, it says so, never "error", and never "all synced"', () => {
    const synced = { lastSyncAt: '2026-11-25T09:00:00.000Z' };
    expect(summary(status({ ...synced, state: 'sign-in', needsSignIn: true, pendingCount: 2 }), true)).toBe('Sign in to send · 2 pending');
    expect(summary(status({ ...synced, state: 'sign-in', needsSignIn: true }), true)).toBe('Sign in to send');
    expect(summary(status({ ...synced, state: 'offline', needsSignIn: true }), true)).toBe('Offline · sign in to send');
  });
});
