/**
 * Client tests in Node: RxDB on fake-indexeddb (one IndexedDB per "browser", so a reload can
 * reopen it), the browser's localStorage for zustand's persist, and record inputs for forms.
 */
import './local-storage';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { openDispenseDatabase, type DispenseDatabase } from '../../client/data/db';
import type { DispenseInput } from '../../client/data/records';
import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../support/records';
import { speedUpFakeIndexedDbCursors } from './fake-indexeddb-cursor';

speedUpFakeIndexedDbCursors();

export interface Browser {
  indexedDB: IDBFactory;
  open: () => Promise<DispenseDatabase>;
}

let browsers = 0;

/** A browser profile: each open() is a page load on the same IndexedDB. */
export function newBrowser(name = `sems-test-${process.pid}-${++browsers}`): Browser {
  const indexedDB = new IDBFactory();
  return {
    indexedDB,
    open: () => openDispenseDatabase(name, { storage: getRxStorageDexie({ indexedDB, IDBKeyRange }), devMode: process.env.DEVMODE !== '0' }),
  };
}

/** What a pharmacist types for record `i`. */
export function inputFor(i: number, overrides: Partial<DispenseInput> = {}): DispenseInput {
  const {
    externalId: _a,
    siteId: _b,
    dispensedBy: _c,
    status: _d,
    voidReason: _e,
    updatedAt: _f,
    ...input
  } = makeDispense({ siteId: 'x', dispensedBy: 'x' }, i) as Dispense;
  return { ...input, ...overrides };
}
