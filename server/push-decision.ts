/**
 * What one pushed row means, given the record the server holds: the push's rules, each once, as
 * a pure function. push.ts reads and locks the records; push-rows.ts calls it each time a row's
 * stored record is seen anew (taken as new, read, locked).
 */
import type { RejectedRow } from '../schemas/api';
import { describeOffset } from '../schemas/devices';
import { changedFields, conflictWinner, FIELD_LABELS, sameDispense, type Dispense } from '../schemas/dispense';
import { entryIssues } from '../schemas/entry-rules';

export interface Candidate {
  doc: Dispense;
  /** The state the client based its change on (its assumedMasterState); null for "new on the client". */
  assumed: Record<string, unknown> | null;
}

export interface Rules {
  /** The signed-in user's site: the only one whose records the push may write. */
  siteId: string;
  /** The users of that site a new record may name as its dispenser, disabled ones included. */
  dispensers: ReadonlySet<string>;
  /** Of those, the disabled ones, each with the instant (ISO) it was disabled. */
  disabledSince?: ReadonlyMap<string, string>;
  /** The server's clock (ms), and how far ahead of it a new instant may be (CLOCK_AHEAD_LIMIT_MINUTES). */
  serverNowMs: number;
  clockAheadLimitMs: number;
}

export interface Update {
  externalId: string;
  action: 'update' | 'void';
  changed: string[];
  before: Dispense;
  after: Dispense;
}

export type Decision =
  | { kind: 'insert' }
  /** Equal to the stored record: nothing to write. */
  | { kind: 'unchanged' }
  /** The client changed another version than the stored one: it gets the stored one back. */
  | { kind: 'conflict'; server: Dispense }
  | { kind: 'update'; update: Update }
  | { kind: 'rejected'; rejection: RejectedRow };

export function rejection(externalId: string | null, code: string, message: string, issues?: RejectedRow['issues']): RejectedRow {
  return issues ? { externalId, code, message, issues } : { externalId, code, message };
}

/** A user writes the records of their own site only, and never one the server holds for another. */
export function wrongSite(doc: Dispense, stored: Dispense | undefined, siteId: string): RejectedRow | null {
  if (stored && stored.siteId !== siteId) return rejection(doc.externalId, 'wrong_site', 'This record belongs to another site');
  if (doc.siteId !== siteId) return rejection(doc.externalId, 'wrong_site', `Records of site ${siteId} only can be written by this user`);
  return null;
}

/**
 * True when the state a client assumed is the stored one, field by field. updatedAt alone does
 * not identify a version: two devices that change the same version in the same millisecond (or
 * whose clocks lag the record's updatedAt) stamp the same one, and a push assuming the other
 * device's version would overwrite this one unseen, e.g. undo a void.
 */
function assumedIsStored(assumed: Record<string, unknown> | null, stored: Dispense): boolean {
  return assumed !== null && sameDispense(assumed as Dispense, stored);
}

/** The latest instant the server accepts, as an ISO string: made once per push's rules, not per row. */
const latestAccepted = new WeakMap<object, { ms: number; iso: string }>();
function latestInstant(rules: Pick<Rules, 'serverNowMs' | 'clockAheadLimitMs'>): string {
  const ms = rules.serverNowMs + rules.clockAheadLimitMs;
  let latest = latestAccepted.get(rules);
  if (latest?.ms !== ms) latestAccepted.set(rules, (latest = { ms, iso: new Date(ms).toISOString() }));
  return latest.iso;
}

/**
 * A new or changed instant later than the server's clock allows. A last-change time (updatedAt)
 * ahead means the device's clock is fast (clock_ahead); a dispense time ahead with a last-change
 * time in order means the time was typed in the future (dispensed_in_future). Either way the
 * record is refused and stays on the device to be corrected; an instant the server holds already
 * is not judged again. The instants are parsed records', in the one form `toISOString()` gives
 * (years 0001-9999), whose string order is their order in time: a string comparison decides,
 * and the instant is parsed only to word a refusal.
 */
export function clockAhead(doc: Dispense, stored: Dispense | undefined, rules: Pick<Rules, 'serverNowMs' | 'clockAheadLimitMs'>): RejectedRow | null {
  const latest = latestInstant(rules);
  for (const field of ['updatedAt', 'dispensedAt'] as const) {
    if (stored?.[field] === doc[field]) continue;
    // A limit past year 9999 has another form (+010000-…): then compare as numbers.
    const late = latest.length === 24 ? doc[field] > latest : Date.parse(doc[field]) - rules.serverNowMs > rules.clockAheadLimitMs;
    if (!late) continue;
    const ahead = describeOffset(Date.parse(doc[field]) - rules.serverNowMs);
    if (field === 'updatedAt') {
      const message = `This device's clock is ${ahead} ahead of the server's clock: the record was saved at a time that has not come yet. Set the device's clock right, then correct the record and save it again.`;
      return rejection(doc.externalId, 'clock_ahead', message);
    }
    const message = `${FIELD_LABELS.dispensedAt} is ${ahead} ahead of the server's clock: a dispense cannot be in the future. Correct the "${FIELD_LABELS.dispensedAt}".`;
    return rejection(doc.externalId, 'dispensed_in_future', message);
  }
  return null;
}

/** A new version's values out of bounds (schemas/entry-rules.ts), judged on what it changes only. */
function implausible(doc: Dispense, stored: Dispense | undefined): RejectedRow | null {
  const issues = entryIssues(doc, stored);
  if (issues.length === 0) return null;
  const message = issues.map((i) => i.message).join('; ');
  return rejection(
    doc.externalId,
    'implausible_value',
    message,
    issues.map((i) => ({ path: i.path, code: 'custom', message: i.message })),
  );
}

/** The decision for one parsed row and the record the server holds under its id, if any. */
export function decide({ doc, assumed }: Candidate, stored: Dispense | undefined, rules: Rules): Decision {
  const foreign = wrongSite(doc, stored, rules.siteId);
  if (foreign) return { kind: 'rejected', rejection: foreign };
  const fast = clockAhead(doc, stored, rules);
  if (fast) return { kind: 'rejected', rejection: fast };
  if (!stored) {
    const odd = implausible(doc, undefined);
    if (odd) return { kind: 'rejected', rejection: odd };
    if (!rules.dispensers.has(doc.dispensedBy)) {
      const message = `${FIELD_LABELS.dispensedBy} "${doc.dispensedBy}" is not a user of site ${rules.siteId}`;
      return { kind: 'rejected', rejection: rejection(doc.externalId, 'unknown_dispenser', message) };
    }
    // A record a user made before being disabled still lands when a device sends it later; one
    // made after (an offline sign-in the device had not yet dropped) does not. Only a new record
    // is judged so: an edit of a stored one keeps its dispenser, and a colleague must still be
    // able to correct or void it.
    const since = rules.disabledSince?.get(doc.dispensedBy);
    if (since !== undefined && doc.updatedAt > since) {
      const message = `${doc.dispensedBy}'s account was disabled by the site's admin before this record was made; it is not accepted.`;
      return { kind: 'rejected', rejection: rejection(doc.externalId, 'user_disabled', message) };
    }
    return { kind: 'insert' };
  }
  if (sameDispense(stored, doc)) return { kind: 'unchanged' };
  if (!assumedIsStored(assumed, stored)) return { kind: 'conflict', server: stored }; // the client decides with RxDB's conflict handler
  // A record only moves forward by the conflict rule: an edit stamps an updatedAt later than the
  // version it changes, and a void is final. A row that would move it back (an older version,
  // one undoing a void, or one stamped with the stored updatedAt) is not an edit of the stored
  // version, whatever state it names as assumed: it comes from a device whose view of the record
  // is stale, and writing it would take the record back and write a version a second time. The
  // device gets the stored version back, which its conflict handler keeps by the same rule.
  if (conflictWinner(doc, stored) === 'server') return { kind: 'conflict', server: stored };
  if (doc.dispensedBy !== stored.dispensedBy) {
    return {
      kind: 'rejected',
      rejection: rejection(doc.externalId, 'immutable_field', `${FIELD_LABELS.dispensedBy} cannot be changed after the record is made`),
    };
  }
  const odd = implausible(doc, stored);
  if (odd) return { kind: 'rejected', rejection: odd };
  const action = stored.status !== 'voided' && doc.status === 'voided' ? 'void' : 'update';
  return { kind: 'update', update: { externalId: doc.externalId, action, changed: changedFields(stored, doc), before: stored, after: doc } };
}

/**
 * True when a decision made on a read without locks stands whatever other requests write next:
 * a record's site never changes, and a row equal to its record writes nothing. Every other
 * decision is made again on the locked record.
 */
export function standsWithoutLock(d: Decision): boolean {
  return d.kind === 'unchanged' || (d.kind === 'rejected' && d.rejection.code === 'wrong_site');
}
