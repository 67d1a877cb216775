/// <reference types="vite-plugin-pwa/vanillajs" />
/**
 * The service worker that lets the app start with no network (vite-plugin-pwa / Workbox: the built
 * app precached, navigations answered from it, /api/ never cached; see vite.config.ts). Registered
 * only in a secure context, the only place browsers allow one. A new version installs beside the
 * running one and waits: the app says "Update available", and the page reloads into it only when
 * the user agrees and nothing is half typed (stores/unsaved-work.ts), in this tab or another one:
 * a tab still on the old version would save into the old storage, which the new version has
 * already migrated and emptied, and that record would be lost.
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
  /** "Update now" was refused: another tab of the app has a dispense half entered or a dialog open. */
  busyElsewhere: boolean;
}

export const useAppUpdate = create<AppUpdateState>()(() => ({
  offlineStart: 'preparing',
  updateWaiting: false,
  reloadPending: false,
  busyElsewhere: false,
}));

/** How often an open app asks the server for a new version (also at each page load and when the network returns). */
const UPDATE_CHECK_MS = 60 * 60_000;

let skipWaiting: (() => Promise<void>) | null = null;

/** The app's tabs in this browser ask each other before an update: is anything half typed? */
const tabs = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('sems-app-update');
/** How long a tab waits for the others' answers (they answer at once; a frozen tab does not count). */
const ANSWER_MS = 300;

tabs?.addEventListener('message', (e: MessageEvent<{ type: string; id?: string }>) => {
  if (e.data.type === 'ask') tabs.postMessage({ type: 'answer', id: e.data.id, busy: hasUnsavedWork() });
  // Another tab updates now: this one reloads too once the new version controls it ('controlling').
  if (e.data.type === 'go') useAppUpdate.setState({ reloadPending: true });
});

/** Whether another tab of the app has unsaved work. */
async function busyInAnotherTab(): Promise<boolean> {
  if (!tabs) return false;
  const id = Math.random().toString(36).slice(2);
  let busy = false;
  const onAnswer = (e: MessageEvent<{ type: string; id?: string; busy?: boolean }>) => {
    if (e.data.type === 'answer' && e.data.id === id && e.data.busy) busy = true;
  };
  tabs.addEventListener('message', onAnswer);
  tabs.postMessage({ type: 'ask', id });
  await new Promise((r) => setTimeout(r, ANSWER_MS));
  tabs.removeEventListener('message', onAnswer);
  return busy;
}

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

/** "Update now": refused (false) while a form is half filled or a dialog is open, here or in another tab. */
export async function applyUpdate(): Promise<boolean> {
  if (hasUnsavedWork() || !skipWaiting) return false;
  if (await busyInAnotherTab()) {
    useAppUpdate.setState({ busyElsewhere: true });
    return false;
  }
  useAppUpdate.setState({ reloadPending: true, busyElsewhere: false });
  tabs?.postMessage({ type: 'go' });
  await skipWaiting();
  return true;
}
