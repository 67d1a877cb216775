/**
 * The conflict rule, used when the server answers a push with its own, different version of a
 * record (another device changed it, or an answer was lost and the record edited since):
 *
 *   1. A voided version wins over a non-voided one (a void is never undone by an older edit).
 *   2. Otherwise the version with the later updatedAt wins; on a tie the server's version wins.
 *
 * The rule itself is shared with the server (schemas/dispense.ts `conflictWinner`), which refuses
 * a push that would move a record back by it (server/push-decision.ts).
 *
 * Versions are told apart field by field, not by updatedAt (docs/decisions/field-by-field-conflicts.md).
 * Nothing is silently lost: when the server's version wins, push.ts keeps this device's losing
 * version in the record's sync mark (kept.ts: shown in the record's History, to apply again);
 * when this device's version wins, it is pushed over the server's, whose audit trail keeps the
 * version it replaces.
 */
import type { RxConflictHandler, WithDeleted } from 'rxdb';
import { conflictWinner, sameDispense, type Dispense } from '../../schemas/dispense';

export { conflictWinner };

/** RxDB's form of the rule. Pure and deterministic, as RxDB requires: it may be called more than once. */
export const dispenseConflictHandler: RxConflictHandler<Dispense> = {
  isEqual(a, b) {
    return !!a._deleted === !!b._deleted && sameDispense(a, b);
  },
  resolve(i) {
    const winner = conflictWinner(i.newDocumentState, i.realMasterState);
    return Promise.resolve<WithDeleted<Dispense>>(winner === 'local' ? i.newDocumentState : i.realMasterState);
  },
};
