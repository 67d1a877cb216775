/// <reference types="vite-plugin-pwa/vanillajs" />
/**
 * The service worker that lets the app start with no network (vite-plugin-pwa / Workbox: the built
 * app precached, navigations answered from it, /api/ never cached; see vite.config.ts). Registered
 * only in a secure context, the only place browsers allow one. A new version installs beside the
 * running one and waits: the app says "Update available", and the page reloads into it only when
 * the user agrees and nothing is half typed (stores/unsaved-work.ts). Other tabs follow the same rule.
 */
import { registerSW } from 'virtual:pwa-register';
import { create } from 'zustand';
import { hasUnsavedWork, useUnsavedWork } from '../stores/unsaved-work';

export type OfflineStart = 'development' | 'insecure' | 'unsupported' | 'preparing' | 'ready' | 'failed';

export interface AppUpdateState {
  /** Whether a restart with no network would open the app. */
  offlineStart: OfflineStart;
  /** A new version is installed and waits for the user's go-ahead. */
  updateWaiting: boolean;
  /** The user agreed (here or in another tab): the page reloads once nothing is unsaved. */
  reloadPending: boolean;
}

export const useAppUpdate = create<AppUpdateState>()(() => ({ offlineStart: 'preparing', updateWaiting: false, reloadPending: false }));

/** How often an open app asks the server for a new version (also at each page load and when the network returns). */
const UPDATE_CHECK_MS = 60 * 60_000;

let skipWaiting: (() => Promise<void>) | null = null;

/** Reloads now, or as soon as the last unsaved form or dialog is done. */
function reloadWhenIdle(): void {
  useAppUpdate.setState({ reloadPending: true });
  if (!hasUnsavedWork()) return window.location.reload();
  const stop = useUnsavedWork.subscribe((s) => {
    if (s.holders.length > 0) return;
    stop();
    window.location.reload();
  });
}

export function registerServiceWorker(): void {
  const set = (p: Partial<AppUpdateState>) => useAppUpdate.setState(p);
  if (import.meta.env.DEV) return set({ offlineStart: 'development' }); // `vite` serves the sources; no worker
  if (!window.isSecureContext) return set({ offlineStart: 'insecure' });
  if (!('serviceWorker' in navigator)) return set({ offlineStart: 'unsupported' });
  skipWaiting = registerSW({
    onNeedRefresh: () => set({ updateWaiting: true }),
    onOfflineReady: () => set({ offlineStart: 'ready' }),
    // The new version controls this page now (accepted here or in another tab).
    onNeedReload: reloadWhenIdle,
    onRegisteredSW: (_url, registration) => {
      // Active means the whole app is precached.
      void navigator.serviceWorker.ready.then(() => set({ offlineStart: 'ready' }));
      if (!registration) return;
      const check = () => void registration.update().catch(() => {}); // offline: the next check will do
      setInterval(check, UPDATE_CHECK_MS);
      window.addEventListener('online', check);
    },
    onRegisterError: (err: unknown) => {
      console.error('The service worker could not be registered: the app will not open without the network.', err);
      set({ offlineStart: 'failed' });
    },
  });
}

/** "Update now": refused (false) while a form is half filled or a dialog is open. */
export function applyUpdate(): boolean {
  if (hasUnsavedWork() || !skipWaiting) return false;
  useAppUpdate.setState({ reloadPending: true });
  void skipWaiting();
  return true;
}
