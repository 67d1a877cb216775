/**
 * The counter's patient history and duplicate check for the signed-in site: this device's records
 * always, the server's when online with a token, and the site's duplicate window as last read;
 * patient ids and medication codes matched ignoring case and surrounding space (patient-history.ts).
 */
import { useEffect, useMemo } from 'react';
import type { DispenseDatabase } from '../data/db';
import { deviceIndexOf } from '../data/device-index';
import { checkDuplicates, duplicateWindowHours, localHistory, refreshSiteSettings, serverHistory } from '../data/patient-history';
import type { DispenseInput } from '../data/records';
import { useSession } from '../stores/session';
import type { DuplicateCheck } from './dispense-form';
import type { HistoryLookup } from './patient-history';

/**
 * When the device's record index is read, if no one needed it before: after the counter's first
 * screen (bench part 7 sees it within about a second), before most pharmacists have typed a
 * patient id. At 100,000 records the read takes 1-3 s (bench part 8).
 */
const WARM_UP_MS = 3000;

export function usePatientHistory(db: DispenseDatabase | null, siteId: string, token: string | null) {
  useEffect(() => {
    if (!db) return;
    const timer = setTimeout(() => deviceIndexOf(db).catch(() => {}), WARM_UP_MS); // a failure is shown where the index is used
    return () => clearTimeout(timer);
  }, [db]);

  // The site's settings (the duplicate window) are read once a session has a token.
  useEffect(() => {
    if (token) void refreshSiteSettings(window.location.origin, token, siteId);
  }, [token, siteId]);

  return useMemo(() => {
    if (!db) return { history: undefined, checkDuplicates: undefined };
    const fromServer = (patientId: string, limit?: number) => {
      const t = useSession.getState().token;
      return t && navigator.onLine !== false ? serverHistory(window.location.origin, t, patientId, limit) : Promise.resolve(null);
    };
    const history: HistoryLookup = { local: (patientId) => localHistory(db, patientId), server: (patientId) => fromServer(patientId) };
    const check = (input: DispenseInput): Promise<DuplicateCheck> => checkDuplicates(db, input, fromServer, duplicateWindowHours(siteId));
    return { history, checkDuplicates: check };
  }, [db, siteId]);
}
