/**
 * What the Find view is asked, kept while the pharmacist moves between views, so Counter and back
 * finds the same records. In memory only: a search holds patient details, never written to storage.
 */
import { create } from 'zustand';

export interface FindFields {
  patient: string;
  medication: string;
  prescription: string;
  /** Local days, YYYY-MM-DD ('' for no bound); the last day is included. */
  fromDay: string;
  toDay: string;
  hideVoided: boolean;
}

export const EMPTY_FIND: FindFields = { patient: '', medication: '', prescription: '', fromDay: '', toDay: '', hideVoided: false };

interface FindState {
  fields: FindFields;
  set: (changes: Partial<FindFields>) => void;
  clear: () => void;
}

export const useFind = create<FindState>()((set) => ({
  fields: EMPTY_FIND,
  set: (changes) => set((s) => ({ fields: { ...s.fields, ...changes } })),
  clear: () => set({ fields: EMPTY_FIND }),
}));
