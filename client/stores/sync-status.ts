/**
 * What the sync panel shows. Not persisted: startSync fills it. The counts of pending and
 * rejected records come from the local database in every tab; the run's outcome (state, last
 * sync, errors, next try) comes from the leader tab, which publishes it for the others.
 */
import { create } from 'zustand';

/** 'sign-in': the server refused the session, or there is none (an offline sign-in): nothing is sent until a sign-in. */
export type SyncState = 'ready' | 'syncing' | 'offline' | 'sign-in' | 'error' | 'paused';

/** A record the server refused that this device holds back until it is corrected. */
export interface RejectedRecord {
  externalId: string;
  code: string;
  message: string;
  patientId: string;
  patientName?: string;
  medicationName: string;
  dispensedAt: string;
  voided: boolean;
}

export interface SyncStatusFields {
  state: SyncState;
  /** The counts below have been read from this device's database; until then they are unknown, not 0. */
  countsKnown: boolean;
  /** The pending count alone has been read (it can be known before the rejected records are). */
  pendingKnown: boolean;
  /** Records with a change the server has not confirmed yet (exact, rejected ones excluded: not sent = pending + rejected). */
  pendingCount: number;
  /** When the oldest of those changes was saved on this device. */
  oldestPendingAt: string | null;
  /** End of the last run that left nothing failed (ISO). */
  lastSyncAt: string | null;
  /** The last run's result in words, e.g. "Synced 12 records". */
  lastResult: string | null;
  lastError: string | null;
  /** When the next automatic attempt is due (ISO), if one is planned. */
  nextTryAt: string | null;
  rejected: RejectedRecord[];
  /** Records with a version of this device that lost to a newer one from the server, kept here (sync/kept.ts). */
  keptCount: number;
  /** The server refused the session: records stay pending until the user signs in again. */
  needsSignIn: boolean;
  /** This tab is the one that sends; the others show its progress. */
  isLeader: boolean;
  /** A first pull of the site's records (a new device): how many of the window's records came, of how many. */
  receiving: { sent: number; total: number } | null;
}

export const INITIAL_SYNC_STATUS: SyncStatusFields = {
  state: 'ready',
  countsKnown: false,
  pendingKnown: false,
  pendingCount: 0,
  oldestPendingAt: null,
  lastSyncAt: null,
  lastResult: null,
  lastError: null,
  nextTryAt: null,
  rejected: [],
  keptCount: 0,
  needsSignIn: false,
  isLeader: false,
  receiving: null,
};

export const useSyncStatus = create<SyncStatusFields>()(() => ({ ...INITIAL_SYNC_STATUS }));
