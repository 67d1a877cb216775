/**
 * The users this device can sign in with no network: at each
 * online sign-in, the user, a password verifier (verifier.ts) and the server's limit, persisted in
 * localStorage (`sems_offline_accounts`). Offline, a password is checked against it under the rules
 * of policy.ts. Sign-out keeps the entry only if the user chose "Remember me on this device".
 * Why so: docs/decisions/offline-sign-in.md.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { OfflineAccess, User } from '../../schemas/api';
import { afterSuccess, afterWrongPassword, refusalBeforeCheck, type OfflineAccount, type Refusal } from './policy';
import { canVerifyOffline, makeVerifier, matchesVerifier } from './verifier';

interface OfflineAccountsState {
  /** By username, as the server spells it (usernames are case-sensitive there). */
  accounts: Record<string, OfflineAccount>;
}

const STORE_KEY = 'sems_offline_accounts';

export const useOfflineAccounts = create<OfflineAccountsState>()(
  persist(() => ({ accounts: {} as Record<string, OfflineAccount> }), {
    name: STORE_KEY,
    storage: createJSONStorage(() => localStorage),
  }),
);

function put(username: string, account: OfflineAccount | null): void {
  useOfflineAccounts.setState((s) => {
    const { [username]: _old, ...rest } = s.accounts;
    return { accounts: account ? { ...rest, [username]: account } : rest };
  });
}

/** An offline sign-in refused; `code` says why (policy.ts). */
export class OfflineSignInError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

/**
 * After an online sign-in: keeps (or renews) the user's verifier, the server's limit and the user's
 * access stamp. Without WebCrypto (plain http) nothing is kept. `remember` undefined keeps the
 * user's earlier choice.
 */
export async function rememberOnlineSignIn(
  user: User,
  password: string,
  offlineSignInSeconds: number,
  remember?: boolean,
  accessStamp?: string,
): Promise<void> {
  if (!canVerifyOffline()) return;
  const verifier = await makeVerifier(password);
  const before = useOfflineAccounts.getState().accounts[user.username];
  put(user.username, {
    user,
    verifier,
    lastOnlineAt: Date.now(),
    offlineSignInSeconds,
    remember: remember ?? before?.remember ?? false,
    failures: 0,
    lockedUntil: null,
    accessStamp,
  });
}

/** Signs `username` in against this device's verifier; throws OfflineSignInError with the reason. */
export async function signInOffline(username: string, password: string): Promise<User> {
  await useOfflineAccounts.persist.rehydrate(); // another tab may have counted a failure since
  const account = useOfflineAccounts.getState().accounts[username];
  const refused = refusalBeforeCheck(account, username, Date.now());
  if (refused) throw new OfflineSignInError(refused);
  const ok = await matchesVerifier(account!.verifier, password);
  const now = Date.now();
  if (!ok) {
    const { account: counted, refusal } = afterWrongPassword(account!, now);
    put(username, counted);
    throw new OfflineSignInError(refusal);
  }
  put(username, afterSuccess(account!));
  return account!.user;
}

/** At sign-out: the verifier goes unless the user asked to be remembered on this device. */
export function forgetUnlessRemembered(username: string): void {
  const account = useOfflineAccounts.getState().accounts[username];
  if (account && !account.remember) put(username, null);
}

/** "Remove this site's data from this device": its users' verifiers go too, remembered or not. */
export function forgetSite(siteId: string): void {
  useOfflineAccounts.setState((s) => ({ accounts: Object.fromEntries(Object.entries(s.accounts).filter(([, a]) => a.user.siteId !== siteId)) }));
}

/**
 * The server's word on who of `siteId` may still sign in here offline (at sign-in and in each
 * device report's answer): a user it no longer names (disabled) or names with another access stamp
 * (password changed or reset, role changed) loses the verifier, remembered or not; an account
 * kept by an earlier version, with no stamp, too. The next online sign-in makes a new one.
 */
export function followServerAccess(siteId: string, access: OfflineAccess): void {
  const { accounts } = useOfflineAccounts.getState();
  const stale = Object.values(accounts).filter(
    (a) => a.user.siteId === siteId && (a.accessStamp === undefined || access[a.user.username] !== a.accessStamp),
  );
  for (const a of stale) put(a.user.username, null);
}

/** The server refused this password: it must not keep working offline either. */
export function forgetAccount(username: string): void {
  if (useOfflineAccounts.getState().accounts[username]) put(username, null);
}

// Another tab signed in or counted a failure: follow it.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === STORE_KEY) void useOfflineAccounts.persist.rehydrate();
  });
}
