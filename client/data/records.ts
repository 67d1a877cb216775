/**
 * Local writes and reads of dispense records: the only code that writes `dispenses`. Every write
 * is validated by the shared zod schema and stamps a new updatedAt; storing it makes it pending
 * in the same write (sync/pending.ts), so the pending count is never behind. Records are never
 * deleted: a mistake is edited or voided with a reason.
 */
import type { Observable } from 'rxjs';
import { ZodError } from 'zod';
import { dispenseSchema, dispenseShape, type Dispense } from '../../schemas/dispense';
import { entryIssues } from '../../schemas/entry-rules';
import { CLOCK_AHEAD_LIMIT_MS } from '../../schemas/devices';
import { correctedNow } from './clock';
import type { DispenseDatabase } from './db';
import { countMade } from './device-made';
import { newestFirst$ } from './rxdb';
import { isRefusedVersion } from './marks';
import { uuidV7 } from './uuid';

/** Who, where, the status and the bookkeeping are set here from the session and the action, never typed. */
const PROTECTED = [
  'externalId',
  'siteId',
  'dispensedBy',
  'status',
  'voidReason',
  'duplicateConfirmedBy',
  'duplicateConfirmedAt',
  'editReason',
  'updatedAt',
] as const;

export type DispenseInput = Omit<Dispense, (typeof PROTECTED)[number]>;

export interface RecordUser {
  username: string;
  siteId: string;
}

/**
 * An updatedAt later than `previous`, so each version of a record has its own; in the server's
 * time (clock.ts). A `previous` further ahead than the server accepts (CLOCK_AHEAD_LIMIT_MS: stamped
 * by a clock that was fast) was never taken by the server, whose version is at most that far
 * ahead: the next one is stamped at that limit, so a correction made once the clock is right is
 * accepted instead of inheriting the fast time and being refused again.
 */
export function nextUpdatedAt(previous?: string, now = correctedNow()): string {
  const after = previous ? Math.min(Date.parse(previous) + 1, now + CLOCK_AHEAD_LIMIT_MS) : 0;
  return new Date(Math.max(now, after)).toISOString();
}

/** RxDB stores JSON: an optional field is absent, not undefined. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A full disk reaches Dexie as an AbortError wrapping QuotaExceededError: say so in words. */
function storageError(err: unknown): unknown {
  const text = `${(err as Error)?.name} ${(err as Error)?.message} ${String((err as { inner?: unknown })?.inner ?? '')}`;
  if (!/QuotaExceeded/i.test(text)) return err;
  return new Error('This device has no storage space left: the record was not saved. Free some space, then try again.', { cause: err });
}

/** Stores, with a full disk said in words. The write itself makes the record pending (sync/pending.ts). */
async function store(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    throw storageError(err);
  }
}

/**
 * The record as the shared schema parses it, and as a new version of `previous` by the entry rules
 * (schemas/entry-rules.ts): the server's push judges it the same way. A ZodError carries the issues per field.
 */
function checked(candidate: Dispense, previous?: Dispense): Dispense {
  const parsed = withoutUndefined(dispenseSchema.parse(candidate));
  const issues = entryIssues(parsed, previous);
  if (issues.length > 0) throw new ZodError(issues.map((i) => ({ code: 'custom', input: parsed[i.path[0]], ...i })));
  return parsed;
}

export interface CreateOptions {
  /** The pharmacist saw the possible duplicates and dispensed anyway: the record keeps who and when. */
  duplicateConfirmed?: boolean;
}

function newRecord(input: DispenseInput, user: RecordUser, updatedAt: string, options: CreateOptions): Dispense {
  const confirmation = options.duplicateConfirmed ? { duplicateConfirmedBy: user.username, duplicateConfirmedAt: updatedAt } : {};
  const candidate = withoutUndefined({
    ...input,
    externalId: uuidV7(),
    siteId: user.siteId,
    dispensedBy: user.username,
    status: 'dispensed' as const,
    ...confirmation,
    updatedAt,
  });
  return checked(candidate);
}

/** Saves a new record on this device. Throws the ZodError of a bad input. */
export async function createDispense(db: DispenseDatabase, input: DispenseInput, user: RecordUser, options: CreateOptions = {}): Promise<Dispense> {
  const [doc] = await createDispenses(db, [input], user, options);
  return doc;
}

/** Saves many new records in one write (imports, tests). All are validated before any is stored. */
export async function createDispenses(
  db: DispenseDatabase,
  inputs: DispenseInput[],
  user: RecordUser,
  options: CreateOptions = {},
): Promise<Dispense[]> {
  const updatedAt = nextUpdatedAt();
  const docs = inputs.map((input) => newRecord(input, user, updatedAt, options));
  await store(async () => {
    const res = await db.dispenses.bulkInsert(docs);
    if (res.error.length > 0) throw new Error(`Saving ${res.error.length} record(s) failed: ${res.error[0].status}`);
  });
  countMade(db.name, user.siteId, docs.length); // this device's made-count, for proof of delivery
  return docs;
}

async function change(db: DispenseDatabase, externalId: string, makeNext: (current: Dispense) => Dispense): Promise<Dispense> {
  const doc = await db.dispenses.findOne(externalId).exec();
  if (!doc) throw new Error(`No record ${externalId} on this device`);
  const current = doc.toMutableJSON() as Dispense;
  // A void is final, except that the version the server refused can be corrected (it stays voided): its way out.
  const refused = current.status === 'voided' && isRefusedVersion((await db.syncmarks.findOne(externalId).exec())?.toJSON(), current);
  if (current.status === 'voided' && !refused) throw new Error('A voided record cannot be changed');
  const next = checked(makeNext(current), current);
  await store(() => doc.incrementalModify(() => next));
  return next;
}

/**
 * Changes a record, for a reason (required, as a void's is; the audit trail keeps it). A key
 * present in `changes` with the value undefined clears that optional field; an absent key keeps
 * it. Who, where and the status cannot be changed here.
 */
export function editDispense(db: DispenseDatabase, externalId: string, changes: Partial<DispenseInput>, reason: string): Promise<Dispense> {
  const editReason = dispenseShape.editReason.unwrap().parse(reason.trim());
  return change(db, externalId, (current) => {
    const next: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(changes)) {
      if ((PROTECTED as readonly string[]).includes(k)) continue;
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    return { ...(next as Dispense), editReason, updatedAt: nextUpdatedAt(current.updatedAt) };
  });
}

/** Voids a record with a reason; the record stays, and the server's audit trail keeps the void. */
export function voidDispense(db: DispenseDatabase, externalId: string, reason: string): Promise<Dispense> {
  return change(db, externalId, (current) => ({
    ...current,
    status: 'voided',
    voidReason: reason.trim(),
    updatedAt: nextUpdatedAt(current.updatedAt),
  }));
}

/** The newest records by dispense time, live; reads one page, however many records there are. */
export function recentDispenses$(db: DispenseDatabase, limit: number): Observable<Dispense[]> {
  return newestFirst$(db.dispenses, 'dispensedAt', limit);
}
