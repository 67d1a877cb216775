/**
 * The sync settings of the signed-in site (auto sync on or off, the interval), persisted in
 * localStorage under `sems_sync_config:<site>` by zustand's persist middleware and re-read when
 * another tab changes them. A site with none yet starts from `sems_sync_config`, the browser-wide
 * key of the versions before site scoping, or the defaults. startSync subscribes to this store;
 * the panel's switch and select write to it.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

export const SYNC_INTERVALS = [
  { seconds: 30, label: '30 seconds' },
  { seconds: 60, label: '1 minute' },
  { seconds: 300, label: '5 minutes' },
  { seconds: 600, label: '10 minutes' },
  { seconds: 1800, label: '30 minutes' },
  { seconds: 3600, label: '1 hour' },
] as const;

export type SyncIntervalSeconds = (typeof SYNC_INTERVALS)[number]['seconds'];

export const SYNC_SETTINGS_KEY = 'sems_sync_config';
/** Where a site's settings are kept. */
export const settingsKeyOf = (siteId: string) => `${SYNC_SETTINGS_KEY}:${siteId}`;
export const DEFAULT_SYNC_SETTINGS = { enabled: true, intervalSeconds: 300 as SyncIntervalSeconds };

export function isSyncInterval(n: unknown): n is SyncIntervalSeconds {
  return SYNC_INTERVALS.some((i) => i.seconds === n);
}

export interface SyncSettings {
  enabled: boolean;
  intervalSeconds: SyncIntervalSeconds;
  setEnabled: (enabled: boolean) => void;
  /** Returns an error message and changes nothing when `seconds` is not one of SYNC_INTERVALS. */
  setIntervalSeconds: (seconds: number) => string | null;
}

export const useSyncSettings = create<SyncSettings>()(
  persist(
    (set) => ({
      ...DEFAULT_SYNC_SETTINGS,
      setEnabled: (enabled) => set({ enabled: enabled === true }),
      setIntervalSeconds: (seconds) => {
        if (!isSyncInterval(seconds)) {
          const allowed = SYNC_INTERVALS.map((i) => i.label).join(', ');
          return `The sync interval must be one of ${allowed}; ${String(seconds)} seconds is not allowed.`;
        }
        set({ intervalSeconds: seconds });
        return null;
      },
    }),
    {
      name: SYNC_SETTINGS_KEY,
      // A site's own settings, or else those of the versions before site scoping.
      storage: createJSONStorage(() => ({
        getItem: (name) => localStorage.getItem(name) ?? localStorage.getItem(SYNC_SETTINGS_KEY),
        setItem: (name, value) => localStorage.setItem(name, value),
        removeItem: (name) => localStorage.removeItem(name),
      })),
      version: 1,
      partialize: ({ enabled, intervalSeconds }) => ({ enabled, intervalSeconds }),
      // A hand-edited or older value falls back to the default instead of reaching the timer; a
      // site with nothing stored starts from the defaults, not from the site signed in before.
      merge: (persisted, current) => {
        const p = (persisted ?? {}) as Partial<Pick<SyncSettings, 'enabled' | 'intervalSeconds'>>;
        return {
          ...current,
          enabled: typeof p.enabled === 'boolean' ? p.enabled : DEFAULT_SYNC_SETTINGS.enabled,
          intervalSeconds: isSyncInterval(p.intervalSeconds) ? p.intervalSeconds : DEFAULT_SYNC_SETTINGS.intervalSeconds,
        };
      },
    },
  ),
);

/**
 * The settings follow the site signed in: read from that site's key (localStorage is read at once,
 * so they are in place before sync starts), and written there from now on.
 */
export function followSiteSettings(siteId: string): void {
  const name = settingsKeyOf(siteId);
  if (useSyncSettings.persist.getOptions().name === name) return;
  useSyncSettings.persist.setOptions({ name });
  void useSyncSettings.persist.rehydrate();
}

// Another tab changed the settings: take them over, so the leader tab's timer follows at once.
if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
  window.addEventListener('storage', (e) => {
    if (e.key === useSyncSettings.persist.getOptions().name || e.key === null) void useSyncSettings.persist.rehydrate();
  });
}
