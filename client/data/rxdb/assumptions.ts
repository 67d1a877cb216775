/**
 * What every file of this adapter rests on: the RxDB version it was written for and checked
 * against, the error a broken assumption throws, and the one test of "is this RxDB's Dexie
 * storage". The app reads some things faster, or earlier, than RxDB's public API allows (the
 * files beside this one, listed in docs/decisions/rxdb-internals.md); each such read checks the
 * assumption it rests on with `assume` and throws when it no longer holds, so an RxDB upgrade
 * fails the tests instead of quietly reading the wrong range. test/client/rxdb-internals.test.ts
 * pins the version.
 */
import { RXDB_VERSION, type RxStorage, type RxStorageInstance } from 'rxdb';

/** The RxDB version every assumption of client/data/rxdb/ was checked against. */
export const WRITTEN_FOR_RXDB = '17.6.0';

/* eslint-disable @typescript-eslint/no-explicit-any -- RxDB's storages differ in the types of their internals, settings and documents; the app passes any of them through */
/** Any RxDB storage (Dexie, or Dexie wrapped by dev-mode's validation). */
export type AnyRxStorage = RxStorage<any, any>;
/** Any storage instance of one. */
export type AnyStorageInstance = RxStorageInstance<any, any, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A broken assumption about RxDB: never caught and papered over. */
export class RxdbInternalsChanged extends Error {
  constructor(what: string) {
    super(`RxDB ${RXDB_VERSION} no longer works as client/data/rxdb/ (written for ${WRITTEN_FOR_RXDB}) assumes: ${what}`);
    this.name = 'RxdbInternalsChanged';
  }
}

/** Throws RxdbInternalsChanged, saying `what` was assumed, unless `ok`. */
export function assume(ok: unknown, what: string): asserts ok {
  if (!ok) throw new RxdbInternalsChanged(what);
}

/**
 * Is `storage` RxDB's Dexie storage, itself or inside RxDB's wrappers? A wrapper (dev-mode's
 * schema validation: 'validate-ajv-dexie') keeps the Dexie storage's internals and ends its name
 * in '-dexie', so the fast reads run in tests as in the app. The one test of it in the app.
 */
export function isDexieStorage(storage: { name: string }): boolean {
  return /(^|-)dexie$/.test(storage.name);
}

/** In tests and development a different RxDB stops here; elsewhere it is logged once. */
export function checkRxdbVersion(strict: boolean): void {
  if (RXDB_VERSION === WRITTEN_FOR_RXDB) return;
  const err = new RxdbInternalsChanged(`the version is ${RXDB_VERSION}; re-check every assumption in client/data/rxdb/, then update WRITTEN_FOR_RXDB`);
  if (strict) throw err;
  console.error(err);
}
