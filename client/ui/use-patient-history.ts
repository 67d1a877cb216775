/**
 * The counter's patient history and duplicate check for the signed-in site: this device's records
 * always, the server's when online with a token, and the site's duplicate window as last read;
 * patient ids and medication codes matched ignoring case and surrounding space (patient-history.ts).
 */
import { useEffect, useMemo } from 'react';
import type { DispenseDatabase } from '../db';
import { checkDuplicates, duplicateWindowHours, localHistory, refreshSiteSettings, serverHistory } from '../patient-history';
import type { DispenseInput } from '../records';
import { useSession } from '../stores/session';
import type { DuplicateCheck } from './dispense-form';
import type { HistoryLookup } from './patient-history';

export function usePatientHistory(db: DispenseDatabase | null, siteId: string, token: string | null) {
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
