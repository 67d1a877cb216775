/** What the device keeps for offline sign-in, and when it forgets it (real PBKDF2, localStorage as in a browser). */
import '../../test/support/local-storage';
import type { User } from '../../schemas/api';
import {
  followServerAccess,
  forgetAccount,
  forgetSite,
  forgetUnlessRemembered,
  rememberOnlineSignIn,
  signInOffline,
  useOfflineAccounts,
} from './accounts';

const user = (username: string, siteId = 'SITE-1'): User => ({ id: 1, username, displayName: username, siteId, role: 'pharmacist' });
const WEEK = 7 * 86_400;
const known = () => Object.keys(useOfflineAccounts.getState().accounts).sort();

beforeEach(() => useOfflineAccounts.setState({ accounts: {} }));

test('after an online sign-in the user signs in offline with the same password, and with no other; the password is not kept', async () => {
  await rememberOnlineSignIn(user('pharm1'), 'counter-pass-1', WEEK, true);
  expect(localStorage.getItem('sems_offline_accounts')).not.toContain('counter-pass-1');
  await expect(signInOffline('pharm1', 'counter-pass-1')).resolves.toMatchObject({ username: 'pharm1' });
  await expect(signInOffline('pharm1', 'counter-pass-2')).rejects.toMatchObject({ refusal: { code: 'wrong_password' } });
  await expect(signInOffline('Pharm1', 'counter-pass-1')).rejects.toMatchObject({ refusal: { code: 'unknown' } }); // usernames are case-sensitive, as on the server
});

test('sign-out forgets a user who did not ask to be remembered; removing a site forgets its users; a refused password forgets the user', async () => {
  await rememberOnlineSignIn(user('kept'), 'pass-kept-1', WEEK, true);
  await rememberOnlineSignIn(user('not-kept'), 'pass-not-kept-1', WEEK, false);
  await rememberOnlineSignIn(user('other-site', 'SITE-2'), 'pass-other-1', WEEK, true);
  forgetUnlessRemembered('kept');
  forgetUnlessRemembered('not-kept');
  expect(known()).toEqual(['kept', 'other-site']);
  forgetSite('SITE-1');
  expect(known()).toEqual(['other-site']);
  forgetAccount('other-site');
  expect(known()).toEqual([]);
});

test('a renewed online sign-in keeps the earlier "Remember me" choice when none is given', async () => {
  await rememberOnlineSignIn(user('pharm1'), 'counter-pass-1', WEEK, true);
  await rememberOnlineSignIn(user('pharm1'), 'counter-pass-1', WEEK);
  expect(useOfflineAccounts.getState().accounts.pharm1.remember).toBe(true);
});

test("the server's access list drops the verifier of a user disabled or whose access stamp changed, and only of that site", async () => {
  await rememberOnlineSignIn(user('stays'), 'pass-stays-1', WEEK, true, '100');
  await rememberOnlineSignIn(user('disabled'), 'pass-disabled-1', WEEK, true, '100');
  await rememberOnlineSignIn(user('reset'), 'pass-reset-1', WEEK, true, '100');
  await rememberOnlineSignIn(user('earlier-version'), 'pass-earlier-1', WEEK, true);
  await rememberOnlineSignIn(user('elsewhere', 'SITE-2'), 'pass-elsewhere-1', WEEK, true, '100');
  followServerAccess('SITE-1', { stays: '100', reset: '250', 'earlier-version': '100', elsewhere: '999' });
  expect(known()).toEqual(['elsewhere', 'stays']);
  await expect(signInOffline('reset', 'pass-reset-1')).rejects.toMatchObject({ refusal: { code: 'unknown' } });
  await expect(signInOffline('stays', 'pass-stays-1')).resolves.toMatchObject({ username: 'stays' });
});

test('a password typed in another Unicode form (decomposed accent) opens the verifier made from the composed one', async () => {
  await rememberOnlineSignIn(user('zoe'), 'caf\u00e9-au-lait-2026', WEEK, true, '1');
  await expect(signInOffline('zoe', 'cafe\u0301-au-lait-2026')).resolves.toMatchObject({ username: 'zoe' });
});
