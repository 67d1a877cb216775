/**
 * The signed-in session: the JWT, when it expires and who it belongs to, persisted in
 * localStorage (`sems_session`) so a reload, a browser restart or a day offline keeps the
 * pharmacist working. With no network, a user this device knows can sign in against its verifier
 * (client/offline/accounts.ts): an offline session, with a user and no token, so nothing is sent
 * until `renew` gets a real token online. Signing out ends the token on the server and forgets it
 * here: records still waiting to sync stay in the site's local database (site.ts) until a user of
 * that site signs in. A password a site admin set must be changed first (`changePassword`); a
 * session the server ended for good (disabled, revoked) is signed out with the reason (`endedByServer`).
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { errorBodySchema, loginResponseSchema, type LoginResponse, type User } from '../../schemas/api';
import { noteServerDate } from '../data/clock';
import {
  followServerAccess,
  forgetAccount,
  forgetSite,
  forgetUnlessRemembered,
  rememberOnlineSignIn,
  signInOffline,
  useOfflineAccounts,
} from '../offline/accounts';
import { canVerifyOffline } from '../offline/verifier';
import { deviceIdOf } from '../data/site';

export interface SessionState {
  token: string | null;
  expiresAt: string | null;
  user: User | null;
  /** Signed in on this device only (no network): records are kept, none is sent until `renew`. */
  offline: boolean;
  /** The password was set by a site admin: nothing but `changePassword` (or sign-out) until it is changed. */
  mustChangePassword: boolean;
  /** Why the server ended the last session (disabled, revoked...), in words, until the next sign-in. */
  endedReason: string | null;
  /**
   * Signs in online; when the server cannot be reached, against this device's verifier instead.
   * `remember`: keep the verifier at sign-out ("Remember me on this device").
   */
  signIn: (username: string, password: string, remember?: boolean) => Promise<void>;
  /** Online sign-in of the signed-in user (after an offline sign-in): a real token, same user. */
  renew: (password: string) => Promise<void>;
  /** The signed-in user chooses their own password; the answer is a new session (every other one ends). */
  changePassword: (currentPassword: string, newPassword: string) => Promise<void>;
  signOut: () => void;
  /**
   * The server refused `token` for good (`code` one of SESSION_ENDED_CODES): signed out, with
   * `reason` in words; unless the session has another token by now (a sign-in meanwhile, here or in another tab).
   */
  endedByServer: (code: string, reason: string, token: string) => void;
}

/** The answers that end a session for good, unlike an expired token (sign in again, keep working meanwhile). */
export const SESSION_ENDED_CODES: ReadonlySet<string> = new Set(['token_revoked', 'user_disabled', 'device_revoked']);

/** The server could not be asked: no connection, or a proxy saying the app is down. */
class Unreachable extends Error {}

/** Turns a failed login answer into the sentence shown under the form. */
async function loginFailure(res: Response): Promise<Error> {
  const parsed = errorBodySchema.safeParse(await res.json().catch(() => null));
  const code = parsed.success ? parsed.data.error.code : null;
  if (res.status === 401 && code === 'user_disabled') return new Error("Your account was disabled by the site's admin.");
  if (res.status === 401) return new Error('Wrong username or password.');
  if (res.status === 429) {
    const wait = Number(res.headers.get('retry-after'));
    const after = wait > 0 ? ` Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.` : '';
    return new Error(`Too many failed sign-ins.${after}`);
  }
  if ([502, 503, 504].includes(res.status)) return new Unreachable(`The server is unavailable (HTTP ${res.status}).`);
  return new Error(parsed.success ? parsed.data.error.message : `Sign-in failed (HTTP ${res.status}).`);
}

/** This device's id at the site of `username`, when it knows the user: a revoked device is refused at sign-in. */
function knownDeviceOf(username: string): Record<string, string> {
  const site = useOfflineAccounts.getState().accounts[username]?.user.siteId;
  return site ? { 'x-device-id': deviceIdOf(site) } : {};
}

async function loginOnline(username: string, password: string): Promise<LoginResponse> {
  if (typeof navigator !== 'undefined' && navigator.onLine === false) throw new Unreachable('No network.');
  let res: Response;
  const sentAt = Date.now();
  try {
    res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...knownDeviceOf(username) },
      body: JSON.stringify({ username, password }),
    });
  } catch {
    throw new Unreachable('Cannot reach the server.');
  }
  if (res.status === 401) forgetAccount(username); // a password the server refuses (or a disabled user) must not work offline either
  if (res.status === 403) {
    // A revoked device keeps no verifier of its site: the site is known from the user's own.
    const site = useOfflineAccounts.getState().accounts[username]?.user.siteId;
    if (site) forgetSite(site);
  }
  if (!res.ok) throw await loginFailure(res);
  noteServerDate(res.headers.get('date'), sentAt, Date.now()); // this device's clock against the server's (clock.ts)
  return loginResponseSchema.parse(await res.json());
}

/**
 * After an online sign-in: this user's verifier renewed (not for a password an admin set, which
 * must be changed first), and the verifiers of the site's users the server no longer vouches for dropped.
 */
async function keepOfflineAccess(body: LoginResponse, password: string, remember?: boolean): Promise<void> {
  if (!body.mustChangePassword) {
    await rememberOnlineSignIn(body.user, password, body.offlineSignInSeconds, remember, body.offlineAccess[body.user.username]);
  }
  followServerAccess(body.user.siteId, body.offlineAccess);
}

const online = (body: LoginResponse) => ({
  token: body.token,
  expiresAt: body.expiresAt,
  user: body.user,
  offline: false,
  mustChangePassword: body.mustChangePassword,
  endedReason: null,
});

const signedOut = { token: null, expiresAt: null, user: null, offline: false, mustChangePassword: false };

/** Ends the token on the server; best effort (with no network it simply expires). */
function logoutOnServer(token: string): void {
  void fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
}

export const useSession = create<SessionState>()(
  persist(
    (set, get) => ({
      ...signedOut,
      endedReason: null,
      signIn: async (username, password, remember = false) => {
        let body: LoginResponse;
        try {
          body = await loginOnline(username, password);
        } catch (err) {
          if (!(err instanceof Unreachable)) throw err;
          if (!canVerifyOffline()) {
            throw new Error(`${err.message} Signing in without the network needs the app served over https (or on localhost); here it is not.`, {
              cause: err,
            });
          }
          const user = await signInOffline(username, password).catch((refused: Error) => {
            throw new Error(`${err.message} ${refused.message}`, { cause: refused });
          });
          set({ ...signedOut, user, offline: true, endedReason: null });
          return;
        }
        await keepOfflineAccess(body, password, remember);
        set(online(body));
      },
      renew: async (password) => {
        const user = get().user;
        if (!user) throw new Error('Not signed in.');
        let body: LoginResponse;
        try {
          body = await loginOnline(user.username, password);
        } catch (err) {
          throw err instanceof Unreachable ? new Error(`${err.message} Try again when the network is back.`, { cause: err }) : err;
        }
        await keepOfflineAccess(body, password);
        set(online(body));
      },
      changePassword: async (currentPassword, newPassword) => {
        const token = get().token;
        if (!token) throw new Error('Sign in online to change your password.');
        let res: Response;
        try {
          res = await fetch('/api/auth/password', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ currentPassword, newPassword }),
          });
        } catch {
          throw new Error('Cannot reach the server: changing your password needs the network.');
        }
        if (!res.ok) {
          const parsed = errorBodySchema.safeParse(await res.json().catch(() => null));
          if (parsed.success && SESSION_ENDED_CODES.has(parsed.data.error.code))
            get().endedByServer(parsed.data.error.code, parsed.data.error.message, token);
          throw new Error(parsed.success ? parsed.data.error.message : `The password could not be changed (HTTP ${res.status}).`);
        }
        const body = loginResponseSchema.parse(await res.json());
        await keepOfflineAccess(body, newPassword);
        set(online(body));
      },
      signOut: () => {
        const { user, token } = get();
        if (user) forgetUnlessRemembered(user.username);
        if (token) logoutOnServer(token);
        set({ ...signedOut, endedReason: null });
      },
      endedByServer: (code, reason, token) => {
        const user = get().user;
        if (!user || get().token !== token) return;
        // Disabled, its password or access changed, or the device revoked: offline sign-in must not outlive it here.
        if (code === 'device_revoked') forgetSite(user.siteId);
        else forgetAccount(user.username);
        set({ ...signedOut, endedReason: reason });
      },
    }),
    {
      name: 'sems_session',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ token, expiresAt, user, offline, mustChangePassword, endedReason }) => ({
        token,
        expiresAt,
        user,
        offline,
        mustChangePassword,
        endedReason,
      }),
    },
  ),
);

// Another tab signed in or out: follow it, so no tab keeps pushing with a forgotten token.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === 'sems_session') void useSession.persist.rehydrate();
  });
}
