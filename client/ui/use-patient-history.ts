/**
 * The counter's patient history and duplicate check for the signed-in site: this device's records
 * always, the server's when online with a token, and the site's duplicate window as last read.
 */
import { useEffect, useMemo } from 'react';
import type { DispenseDatabase } from '../db';
import { duplicateWindowHours, localHistory, mergeHistory, possibleDuplicates, refreshSiteSettings, serverHistory } from '../patient-history';
import type { DispenseInput } from '../records';
import { useSession } from '../stores/session';
import type { DuplicateCheck } from './dispense-form';
import type { HistoryLookup } from './patient-history';

/** How many of the patient's records the duplicate check reads from each side. */
const CHECKED = 100;

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
    const checkDuplicates = async (input: DispenseInput): Promise<DuplicateCheck> => {
      const hours = duplicateWindowHours(siteId);
      const [local, server] = await Promise.all([localHistory(db, input.patientId, CHECKED), fromServer(input.patientId, CHECKED)]);
      return { duplicates: possibleDuplicates(input, mergeHistory(local, server, 2 * CHECKED), hours), hours, offline: server === null };
    };
    return { history, checkDuplicates };
  }, [db, siteId]);
}
