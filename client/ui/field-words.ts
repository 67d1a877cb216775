/**
 * A record's fields in a pharmacist's words: the labels of the shared schema (FIELD_LABELS, which
 * the form shows too), and the server's reasons with its field names put in words.
 * Bookkeeping fields (which record, which site, when it last changed) are not shown in a history.
 */
import { FIELD_LABELS, type Dispense } from '../../schemas/dispense';

const LABELS: Record<string, string> = FIELD_LABELS;

/** Kept for the sync and the audit trail, not what a pharmacist changed. */
const BOOKKEEPING: ReadonlySet<string> = new Set<keyof Dispense>(['updatedAt', 'siteId', 'externalId']);

export const isBookkeeping = (field: string): boolean => BOOKKEEPING.has(field);

/** "Dispensed at" for dispensedAt; a field this map does not know yet is split into words ("Confirmed by" for confirmedBy). */
export function fieldLabel(field: string): string {
  const known = LABELS[field];
  if (known) return known;
  const words = field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const NAMES = Object.keys(LABELS).sort((a, b) => b.length - a.length);
// A field name in a server's sentence: any camelCase name where it stands, and a one-word name
// only where it names a field ("quantity: must be positive"), not as an ordinary word.
const CAMEL = new RegExp(`\\b(${NAMES.filter((n) => /[A-Z]/.test(n)).join('|')})\\b`, 'g');
const PLAIN = new RegExp(`(^|[;:] )(${NAMES.filter((n) => !/[A-Z]/.test(n)).join('|')})(?=: )`, 'g');

/** A server's reason with its field names as the form's labels: `dispensedAt is 4 minutes ahead…` → `Dispensed at is 4 minutes ahead…`. */
export function inWords(text: string): string {
  return text.replace(CAMEL, (name: string) => fieldLabel(name)).replace(PLAIN, (_m, before: string, name: string) => `${before}${fieldLabel(name)}`);
}
