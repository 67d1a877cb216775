/**
 * The MedicationDispense search's parameters, parsed from the query string into conditions the
 * SQL can take. Strict: a parameter, modifier or prefix this server does not support, or a value
 * it cannot read, is a 400 naming it, never silently ignored (a health system that thinks it
 * filtered by a parameter the server dropped would report the wrong records). FHIR's search rules
 * followed here: a repeated parameter is AND, a comma inside one is OR (`\,` is a literal comma),
 * and a date matches by the precision it is written in (server/fhir/search-dates.ts).
 */
import { AppError } from '../errors';
import { SYSTEM } from './medication-dispense';
import { dateRange, type DateRange } from './search-dates';

export type PatientMatch = { id: string } | { identifier: { system?: string; value: string } };

export type RecordStatus = 'dispensed' | 'voided';

export type Condition =
  | { on: 'patient'; anyOf: PatientMatch[] }
  | { on: 'whenhandedover' | '_lastUpdated'; anyOf: DateRange[] }
  /** The record statuses the codes name; empty when none does (a valid code no record has). */
  | { on: 'status'; anyOf: RecordStatus[] };

/** Where the last page ended: its last record's dispense instant (to the microsecond) and id. */
export interface Cursor {
  at: string;
  id: string;
}

export interface SearchRequest {
  conditions: Condition[];
  count: number;
  after?: Cursor;
}

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 1000;
/** The paging parameter of the next links; its value is opaque to clients. */
export const CURSOR_PARAM = '_cursor';
/** Read by the route (server/fhir/format.ts), accepted here. */
const FORMAT_PARAM = '_format';

/** The search parameters, with their FHIR types (the CapabilityStatement lists the same). */
export const SEARCH_PARAMS = {
  patient: 'reference',
  whenhandedover: 'date',
  status: 'token',
  _lastUpdated: 'date',
  _count: 'number',
} as const;

/** MedicationDispense's status codes in R4, and the record status each stands for (null: none). */
const STATUS_CODES: Record<string, RecordStatus | null> = {
  completed: 'dispensed',
  'entered-in-error': 'voided',
  preparation: null,
  'in-progress': null,
  cancelled: null,
  'on-hold': null,
  stopped: null,
  declined: null,
  unknown: null,
};

function invalid(message: string): AppError {
  return new AppError(400, 'invalid_search', message);
}

/** `text` split at each `sep` that is not escaped by a backslash; the parts keep their escapes. */
function splitUnescaped(text: string, sep: ',' | '|'): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const unescapeValue = (text: string) => text.replace(/\\([,|$\\])/g, '$1');

/** A value's comma-separated alternatives, each unescaped (`\,` `\|` `\$` `\\`). */
export function splitValues(value: string): string[] {
  return splitUnescaped(value, ',').map(unescapeValue);
}

// ---- references and tokens -----------------------------------------------------------------

/** `system|value` or `value`; `|value` is "no system", kept as the empty system. */
function token(text: string): { system?: string; value: string } {
  const [first, ...rest] = splitUnescaped(text, '|');
  return rest.length === 0 ? { value: unescapeValue(first) } : { system: unescapeValue(first), value: unescapeValue(rest.join('|')) };
}

function patientMatch(text: string, modifier: string | undefined): PatientMatch {
  if (modifier === 'identifier') {
    const t = token(text);
    if (!t.value) throw invalid('patient:identifier: the identifier has no value');
    return { identifier: t };
  }
  const id = text.startsWith('Patient/') ? text.slice('Patient/'.length) : text;
  if (!id.trim()) throw invalid('patient: the patient id is empty');
  return { id };
}

function statuses(text: string): RecordStatus[] {
  const t = token(text);
  if (!Object.hasOwn(STATUS_CODES, t.value))
    throw invalid(`status: "${t.value}" is not a MedicationDispense status (${Object.keys(STATUS_CODES).join(', ')})`);
  if (t.system !== undefined && t.system !== SYSTEM.dispenseStatus) return [];
  const status = STATUS_CODES[t.value];
  return status ? [status] : [];
}

// ---- paging --------------------------------------------------------------------------------

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at}|${c.id}`).toString('base64url');
}

export function decodeCursor(value: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(value)) return null;
  const m = CURSOR_TEXT.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m) return null;
  const ms = `${m[1].slice(0, 23)}Z`;
  if (ms.startsWith('0000') || Number.isNaN(Date.parse(ms)) || new Date(ms).toISOString() !== ms) return null;
  return { at: m[1], id: m[2] };
}

// ---- the query -----------------------------------------------------------------------------

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw invalid(`${name} is given ${all.length} times; it takes one value`);
  return all[0];
}

/** The search request of a query string; a 400 `invalid_search` AppError for anything it cannot honour. */
export function parseSearch(params: URLSearchParams): SearchRequest {
  const conditions: Condition[] = [];
  for (const [key, value] of params) {
    const [name, modifier, ...rest] = key.split(':');
    if (name === FORMAT_PARAM || name === '_count' || name === CURSOR_PARAM) {
      if (modifier !== undefined) throw invalid(`${key}: ${name} takes no modifier`);
      continue;
    }
    if (!Object.hasOwn(SEARCH_PARAMS, name)) {
      throw invalid(`The search parameter "${name}" is not supported; this server is strict and does not ignore one (see its CapabilityStatement)`);
    }
    if (rest.length > 0 || (modifier !== undefined && !(name === 'patient' && modifier === 'identifier'))) {
      throw invalid(`${key}: the modifier "${key.slice(name.length + 1)}" is not supported`);
    }
    if (value === '') throw invalid(`${key} has no value`);
    // Tokens (an identifier, a status) are unescaped by token(), after their | is found.
    const raw = splitUnescaped(value, ',');
    if (name === 'patient') {
      conditions.push({ on: 'patient', anyOf: raw.map((v) => patientMatch(modifier ? v : unescapeValue(v), modifier)) });
    } else if (name === 'status') {
      conditions.push({ on: 'status', anyOf: [...new Set(raw.flatMap(statuses))] });
    } else {
      conditions.push({ on: name as 'whenhandedover' | '_lastUpdated', anyOf: raw.map((v) => dateRange(name, unescapeValue(v))) });
    }
  }
  const countText = single(params, '_count');
  let count = DEFAULT_COUNT;
  if (countText !== undefined) {
    count = /^\d{1,7}$/.test(countText) ? Number(countText) : NaN;
    if (!(count >= 1 && count <= MAX_COUNT)) throw invalid(`_count: "${countText}" is not a whole number from 1 to ${MAX_COUNT}`);
  }
  const cursorText = single(params, CURSOR_PARAM);
  const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (after === null) throw invalid(`${CURSOR_PARAM}: not a page position this server made; follow the next link of a search`);
  return { conditions, count, ...(after ? { after } : {}) };
}
