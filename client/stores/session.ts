/**
 * The signed-in session: the JWT, when it expires and who it belongs to, persisted in
 * localStorage (`sems_session`) so a reload, a browser restart or a day offline keeps the
 * pharmacist working. With no network, a user this device knows can sign in against its verifier
 * (client/offline/accounts.ts): an offline session, with a user and no token, so nothing is sent
 * until `renew` gets a real token online. Signing out forgets the token only: records still
 * waiting to sync stay in the site's local database (site.ts) until a user of that site signs in.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { errorBodySchema, loginResponseSchema, type LoginResponse, type User } from '../../schemas/api';
import { noteServerDate } from '../clock';
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

export interface SessionState {
  token: string | null;
  expiresAt: string | null;
  user: User | null;
  /** Signed in on this device only (no network): records are kept, none is sent until `renew`. */
  offline: boolean;
  /**
   * Signs in online; when the server cannot be reached, against this device's verifier instead.
   * `remember`: keep the verifier at sign-out ("Remember me on this device").
   */
  signIn: (username: string, password: string, remember?: boolean) => Promise<void>;
  /** Online sign-in of the signed-in user (after an offline sign-in): a real token, same user. */
  renew: (password: string) => Promise<void>;
  signOut: () => void;
}

/** The server could not be asked: no connection, or a proxy saying the app is down. */
class Unreachable extends Error {}

/** Turns a failed login answer into the sentence shown under the form. */
async function loginFailure(res: Response): Promise<Error> {
  const parsed = errorBodySchema.safeParse(await res.json().catch(() => null));
  if (res.status === 401) return new Error('Wrong username or password.');
  if (res.status === 429) {
    const wait = Number(res.headers.get('retry-after'));
    const after = wait > 0 ? ` Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.` : '';
    return new Error(`Too many failed sign-ins.${after}`);
  }
  if ([502, 503, 504].includes(res.status)) return new Unreachable(`The server is unavailable (HTTP ${res.status}).`);
  return new Error(parsed.success ? parsed.data.error.message : `Sign-in failed (HTTP ${res.status}).`);
}

async function loginOnline(username: string, password: string): Promise<LoginResponse> {
  if (typeof navigator !== 'undefined' && navigator.onLine === false) throw new Unreachable('No network.');
  let res: Response;
  const sentAt = Date.now();
  try {
    res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
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

/** After an online sign-in: this user's verifier renewed, and the verifiers of the site's users the server no longer vouches for dropped. */
async function keepOfflineAccess(body: LoginResponse, password: string, remember?: boolean): Promise<void> {
  await rememberOnlineSignIn(body.user, password, body.offlineSignInSeconds, remember, body.offlineAccess[body.user.username]);
  followServerAccess(body.user.siteId, body.offlineAccess);
}

const online = (body: LoginResponse) => ({ token: body.token, expiresAt: body.expiresAt, user: body.user, offline: false });

export const useSession = create<SessionState>()(
  persist(
    (set, get) => ({
      token: null,
      expiresAt: null,
      user: null,
      offline: false,
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
          set({ token: null, expiresAt: null, user, offline: true });
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
      signOut: () => {
        const user = get().user;
        if (user) forgetUnlessRemembered(user.username);
        set({ token: null, expiresAt: null, user: null, offline: false });
      },
    }),
    {
      name: 'sems_session',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ token, expiresAt, user, offline }) => ({ token, expiresAt, user, offline }),
    },
  ),
);

// Another tab signed in or out: follow it, so no tab keeps pushing with a forgotten token.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === 'sems_session') void useSession.persist.rehydrate();
  });
}
