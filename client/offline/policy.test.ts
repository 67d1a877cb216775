import { afterSuccess, afterWrongPassword, MAX_OFFLINE_FAILURES, OFFLINE_LOCKOUT_MS, refusalBeforeCheck, type OfflineAccount } from './policy';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

const account = (over: Partial<OfflineAccount> = {}): OfflineAccount => ({
  user: { id: 1, username: 'pharm1', displayName: 'Pharm One', siteId: 'SITE-1', role: 'pharmacist' },
  verifier: { salt: 's', hash: 'h', iterations: 1 },
  lastOnlineAt: T0,
  offlineSignInSeconds: 7 * 86_400,
  remember: true,
  failures: 0,
  lockedUntil: null,
  ...over,
});

describe('who may sign in offline', () => {
  test('a user who never signed in online on this device is refused, and told why', () => {
    expect(refusalBeforeCheck(undefined, 'pharm2', T0)).toMatchObject({
      code: 'unknown',
      message: expect.stringMatching(/has not signed in online on this device/),
    });
  });

  test('within the limit since the last online sign-in, a password may be tried; past it, refused', () => {
    expect(refusalBeforeCheck(account(), 'pharm1', T0 + 7 * DAY - 1000)).toBeNull();
    expect(refusalBeforeCheck(account(), 'pharm1', T0 + 7 * DAY + 1000)).toMatchObject({
      code: 'expired',
      message: expect.stringMatching(/7 days after the last online sign-in/),
    });
  });

  test('a limit of 0 from the server turns offline sign-in off', () => {
    expect(refusalBeforeCheck(account({ offlineSignInSeconds: 0 }), 'pharm1', T0 + 1000)?.code).toBe('disabled');
  });

  test('a clock set back before the last online sign-in is not believed', () => {
    expect(refusalBeforeCheck(account(), 'pharm1', T0 - DAY)?.code).toBe('clock');
    expect(refusalBeforeCheck(account(), 'pharm1', T0 - 60_000)).toBeNull(); // small drift between tabs is fine
  });
});

describe('wrong passwords offline', () => {
  test(`after ${MAX_OFFLINE_FAILURES} wrong passwords the account is locked for 15 minutes, then may try again`, () => {
    let a = account();
    for (let i = 1; i < MAX_OFFLINE_FAILURES; i++) {
      const r = afterWrongPassword(a, T0 + i);
      expect(r.refusal.code).toBe('wrong_password');
      a = r.account;
    }
    const last = afterWrongPassword(a, T0 + 10);
    expect(last.refusal.code).toBe('locked');
    a = last.account;
    expect(refusalBeforeCheck(a, 'pharm1', T0 + 10 + OFFLINE_LOCKOUT_MS - 1000)?.code).toBe('locked');
    expect(refusalBeforeCheck(a, 'pharm1', T0 + 10 + OFFLINE_LOCKOUT_MS)).toBeNull();
    // After the lockout the count starts again.
    expect(afterWrongPassword(a, T0 + 10 + OFFLINE_LOCKOUT_MS).account.failures).toBe(1);
  });

  test('a right password clears the count', () => {
    const a = afterWrongPassword(account(), T0).account;
    expect(a.failures).toBe(1);
    expect(afterSuccess(a)).toMatchObject({ failures: 0, lockedUntil: null });
  });
});
