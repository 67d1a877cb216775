/**
 * A patient's dispenses at this site, for the counter: what this device holds (its own records
 * and those pulled from the site's other devices) first, then the server's older history when
 * online; and the duplicate-dispense check before a save: the same patient and medication code
 * within the site's window (the server's DUPLICATE_WINDOW_HOURS, default 24 h). Patient ids and
 * medication codes match ignoring case and surrounding space, on both sides (schemas/match-key.ts).
 */
import { dispensePageSchema, syncStatusSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { matchKey } from '../../schemas/match-key';
import type { DispenseDatabase } from './db';
import { patientRecords } from './device-index';

export const DEFAULT_DUPLICATE_WINDOW_HOURS = 24;

/**
 * The patient's records on this device, newest first. Not RxDB's patientId index: it matches the
 * id exactly as typed; the device's record index matches its key (device-index.ts).
 */
export function localHistory(db: DispenseDatabase, patientId: string, limit = 20): Promise<Dispense[]> {
  return patientRecords(db, patientId, limit);
}

/** The patient's records on the server (its whole history at the site), newest first; null offline or on any failure. */
export async function serverHistory(baseUrl: string, token: string, patientId: string, limit = 20): Promise<Dispense[] | null> {
  try {
    const res = await fetch(`${baseUrl}/api/dispenses?${new URLSearchParams({ patientId, limit: String(limit) })}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return null;
    const page = dispensePageSchema.safeParse(await res.json());
    return page.success ? page.data.items : null;
  } catch {
    return null;
  }
}

/** Both lists as one, newest first, each record once (the device's version where it holds one). */
export function mergeHistory(local: Dispense[], server: Dispense[] | null, limit = 20): Dispense[] {
  const byId = new Map((server ?? []).map((d) => [d.externalId, d]));
  for (const d of local) byId.set(d.externalId, d);
  return [...byId.values()]
    .sort((a, b) => (a.dispensedAt === b.dispensedAt ? (a.externalId < b.externalId ? 1 : -1) : a.dispensedAt < b.dispensedAt ? 1 : -1))
    .slice(0, limit);
}

/**
 * Records that make `input` a possible duplicate: same patient and medication code (each ignoring
 * case and surrounding space), not voided, within `hours` of it.
 */
export function possibleDuplicates(
  input: Pick<Dispense, 'patientId' | 'medicationCode' | 'dispensedAt'>,
  history: Dispense[],
  hours: number,
): Dispense[] {
  const at = Date.parse(input.dispensedAt);
  const window = hours * 3_600_000;
  const patient = matchKey(input.patientId);
  const medication = matchKey(input.medicationCode);
  return history.filter(
    (d) =>
      d.status !== 'voided' &&
      matchKey(d.patientId) === patient &&
      matchKey(d.medicationCode) === medication &&
      Math.abs(Date.parse(d.dispensedAt) - at) <= window,
  );
}

/** How many of the patient's records the duplicate check reads from each side. */
const CHECKED = 100;

/**
 * The duplicate check before a save: the patient's records on this device and, when `fromServer`
 * answers, on the server, that make `input` a possible duplicate within `hours`.
 */
export async function checkDuplicates(
  db: DispenseDatabase,
  input: Pick<Dispense, 'patientId' | 'medicationCode' | 'dispensedAt'>,
  fromServer: (patientId: string, limit: number) => Promise<Dispense[] | null>,
  hours: number,
): Promise<{ duplicates: Dispense[]; hours: number; offline: boolean }> {
  const [local, server] = await Promise.all([localHistory(db, input.patientId, CHECKED), fromServer(input.patientId, CHECKED)]);
  return { duplicates: possibleDuplicates(input, mergeHistory(local, server, 2 * CHECKED), hours), hours, offline: server === null };
}

/** Where the site's settings read from the server are kept on this device. */
export const siteSettingsKey = (siteId: string) => `sems_site_settings:${siteId}`;

/** The site's duplicate window as last read from the server (the default until then). */
export function duplicateWindowHours(siteId: string): number {
  try {
    const hours = Number(JSON.parse(localStorage.getItem(siteSettingsKey(siteId)) ?? '{}').duplicateWindowHours);
    return Number.isInteger(hours) && hours > 0 ? hours : DEFAULT_DUPLICATE_WINDOW_HOURS;
  } catch {
    return DEFAULT_DUPLICATE_WINDOW_HOURS;
  }
}

/** How long settings read from the server are used before they are read again. */
const SETTINGS_MAX_AGE_MS = 12 * 3_600_000;

/**
 * Reads the site's settings from GET /api/sync/status and keeps them for offline use; false when
 * it could not. Read at most twice a day: these settings change rarely.
 */
export async function refreshSiteSettings(baseUrl: string, token: string, siteId: string, now = Date.now()): Promise<boolean> {
  try {
    const kept = JSON.parse(localStorage.getItem(siteSettingsKey(siteId)) ?? '{}') as { readAt?: number };
    if (typeof kept.readAt === 'number' && now - kept.readAt < SETTINGS_MAX_AGE_MS && kept.readAt <= now) return true;
    const res = await fetch(`${baseUrl}/api/sync/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    const status = syncStatusSchema.safeParse(res.ok ? await res.json() : null);
    if (!status.success) return false;
    const { pullWindowDays, duplicateWindowHours: hours } = status.data;
    localStorage.setItem(siteSettingsKey(siteId), JSON.stringify({ pullWindowDays, duplicateWindowHours: hours, readAt: now }));
    return true;
  } catch {
    return false;
  }
}
