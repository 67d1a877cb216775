/**
 * A version of this device that lost a conflict to the server's (another device changed the record
 * later, or voided it): the record follows the server, and push.ts keeps the losing version in the
 * record's sync mark, in IndexedDB, so it survives a reload. It is not on the server. The record's
 * History shows it, and the user may apply it again: a new edit, later than the server's version,
 * which the next sync sends. Applied or dismissed, it is forgotten.
 */
import { map, type Observable } from 'rxjs';
import { DISPENSE_FIELDS, dispenseSchema, type Dispense } from '../../schemas/dispense';
import type { DispenseInput } from '../data/records';
import type { SyncMarkCollection } from '../data/marks';

/** What applying a kept version never changes: who made it, where, its status, when it last changed. */
const NOT_APPLIED: readonly (keyof Dispense)[] = ['externalId', 'siteId', 'dispensedBy', 'status', 'voidReason', 'updatedAt'];

function parseKept(json: string | undefined): Dispense | null {
  if (!json) return null;
  try {
    const parsed = dispenseSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The version of record `externalId` this device kept after losing a conflict, live; null when there is none. */
export function keptVersion$(marks: SyncMarkCollection, externalId: string): Observable<Dispense | null> {
  return marks.findOne(externalId).$.pipe(map((doc) => parseKept(doc?.superseded)));
}

/** How many records have a kept version on this device, live (the sync panel says so until each is applied or discarded). */
export function keptCount$(marks: SyncMarkCollection): Observable<number> {
  return marks.find({ selector: { superseded: { $exists: true } } }).$.pipe(map((docs) => docs.length));
}

/**
 * What applying `kept` to `current` changes: each edited field whose value differs, a field the
 * kept version has not being cleared (present with the value undefined, as editDispense takes it).
 */
export function keptChanges(current: Dispense, kept: Dispense): Partial<DispenseInput> {
  const changes: Record<string, unknown> = {};
  for (const f of DISPENSE_FIELDS) if (!NOT_APPLIED.includes(f) && (kept[f] ?? null) !== (current[f] ?? null)) changes[f] = kept[f];
  return changes as Partial<DispenseInput>;
}

/** Forgets the kept version of `externalId` (applied again, or dismissed); its mark stays otherwise as it was. */
export async function forgetKept(marks: SyncMarkCollection, externalId: string): Promise<void> {
  const doc = await marks.findOne(externalId).exec();
  if (!doc?.superseded) return;
  await doc.incrementalModify(({ superseded: _dropped, ...rest }) => rest);
}
