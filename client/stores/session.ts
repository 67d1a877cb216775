/**
 * The signed-in session: the JWT, when it expires and who it belongs to, persisted in
 * localStorage (`sems_session`) so a reload or a day offline keeps the pharmacist working.
 * Signing out forgets the token only: records still waiting to sync stay in the site's local
 * database (site.ts) until a user of that site signs in here again.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { errorBodySchema, loginResponseSchema, type User } from '../../schemas/api';

export interface SessionState {
  token: string | null;
  expiresAt: string | null;
  user: User | null;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => void;
}

/** Turns a failed login answer into the sentence shown under the form. */
async function loginFailure(res: Response): Promise<Error> {
  const parsed = errorBodySchema.safeParse(await res.json().catch(() => null));
  if (res.status === 401) return new Error('Wrong username or password.');
  if (res.status === 429) {
    const wait = Number(res.headers.get('retry-after'));
    const after = wait > 0 ? ` Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.` : '';
    return new Error(`Too many failed sign-ins.${after}`);
  }
  return new Error(parsed.success ? parsed.data.error.message : `Sign-in failed (HTTP ${res.status}).`);
}

export const useSession = create<SessionState>()(
  persist(
    (set) => ({
      token: null,
      expiresAt: null,
      user: null,
      signIn: async (username, password) => {
        let res: Response;
        try {
          res = await fetch('/api/auth/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username, password }),
          });
        } catch {
          throw new Error('Cannot reach the server. Check the connection and try again.');
        }
        if (!res.ok) throw await loginFailure(res);
        const body = loginResponseSchema.parse(await res.json());
        set({ token: body.token, expiresAt: body.expiresAt, user: body.user });
      },
      signOut: () => set({ token: null, expiresAt: null, user: null }),
    }),
    {
      name: 'sems_session',
      storage: createJSONStorage(() => localStorage),
      partialize: ({ token, expiresAt, user }) => ({ token, expiresAt, user }),
    },
  ),
);

// Another tab signed in or out: follow it, so no tab keeps pushing with a forgotten token.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === 'sems_session') void useSession.persist.rehydrate();
  });
}
