import '../../test/support/local-storage';
import { DEFAULT_SYNC_SETTINGS, followSiteSettings, settingsKeyOf, SYNC_INTERVALS, SYNC_SETTINGS_KEY, useSyncSettings } from './sync-settings';

beforeEach(() => {
  useSyncSettings.setState(DEFAULT_SYNC_SETTINGS);
});

test('a new browser starts with auto sync on every 5 minutes', () => {
  expect(useSyncSettings.getState()).toMatchObject({ enabled: true, intervalSeconds: 300 });
  expect(SYNC_INTERVALS.map((i) => i.seconds)).toEqual([30, 60, 300, 600, 1800, 3600]);
});

test('an interval from the list is taken and persisted under sems_sync_config', () => {
  expect(useSyncSettings.getState().setIntervalSeconds(60)).toBeNull();
  useSyncSettings.getState().setEnabled(false);
  expect(useSyncSettings.getState()).toMatchObject({ enabled: false, intervalSeconds: 60 });
  expect(JSON.parse(localStorage.getItem(SYNC_SETTINGS_KEY)!).state).toEqual({ enabled: false, intervalSeconds: 60 });
});

test.each([0, 45, 120, 7200, -30, Number.NaN])('an interval of %p seconds is refused with a message and changes nothing', (seconds) => {
  const message = useSyncSettings.getState().setIntervalSeconds(seconds);
  expect(message).toMatch(/must be one of 30 seconds, 1 minute, 5 minutes, 10 minutes, 30 minutes, 1 hour/);
  expect(useSyncSettings.getState().intervalSeconds).toBe(300);
});

test('a stored value outside the list falls back to the default when read', async () => {
  localStorage.setItem(SYNC_SETTINGS_KEY, JSON.stringify({ state: { enabled: false, intervalSeconds: 45 }, version: 1 }));
  await useSyncSettings.persist.rehydrate();
  expect(useSyncSettings.getState()).toMatchObject({ enabled: false, intervalSeconds: 300 });
});

test('settings written by another tab are taken over on rehydrate', async () => {
  localStorage.setItem(SYNC_SETTINGS_KEY, JSON.stringify({ state: { enabled: true, intervalSeconds: 1800 }, version: 1 }));
  await useSyncSettings.persist.rehydrate();
  expect(useSyncSettings.getState().intervalSeconds).toBe(1800);
});

test('each site keeps its own settings; a new site starts from the old browser-wide ones, or the defaults', () => {
  localStorage.clear();
  followSiteSettings('site-1');
  expect(useSyncSettings.getState()).toMatchObject(DEFAULT_SYNC_SETTINGS);
  useSyncSettings.getState().setEnabled(false);
  expect(useSyncSettings.getState().setIntervalSeconds(60)).toBeNull();
  expect(JSON.parse(localStorage.getItem(settingsKeyOf('site-1'))!).state).toEqual({ enabled: false, intervalSeconds: 60 });

  followSiteSettings('site-2'); // nothing of site 1's carries over
  expect(useSyncSettings.getState()).toMatchObject(DEFAULT_SYNC_SETTINGS);

  // What the versions before site scoping stored, for every site of the browser.
  localStorage.setItem(SYNC_SETTINGS_KEY, JSON.stringify({ state: { enabled: true, intervalSeconds: 1800 }, version: 1 }));
  followSiteSettings('site-3');
  expect(useSyncSettings.getState()).toMatchObject({ enabled: true, intervalSeconds: 1800 });

  followSiteSettings('site-1');
  expect(useSyncSettings.getState()).toMatchObject({ enabled: false, intervalSeconds: 60 });
});
