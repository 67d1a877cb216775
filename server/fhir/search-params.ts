/**
 * The MedicationDispense search's parameters, parsed from the query string into conditions the
 * SQL can take. Strict: a parameter, modifier or prefix this server does not support, or a value
 * it cannot read, is a 400 naming it, never silently ignored (a health system that thinks it
 * filtered by a parameter the server dropped would report the wrong records). FHIR's search rules
 * followed here: a repeated parameter is AND, a comma inside one is OR (`\,` is a literal comma),
 * and a date matches by the precision it is written in (a day, a minute, a second...).
 */
import { AppError } from '../errors';
import { SYSTEM } from './medication-dispense';

/** An interval [from, to) of instants (ISO text, or PostgreSQL's -infinity / infinity beyond years 1-9999). */
export interface DateRange {
  from?: string;
  to?: string;
}

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

// ---- dates ---------------------------------------------------------------------------------

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+ -]\d{2}:\d{2})?)?)?)?$/;
const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)/;
const MIN_MS = -62135596800000; // 0001-01-01T00:00:00Z
const MAX_MS = 253402300800000; // 10000-01-01T00:00:00Z

function utc(y: number, mo: number, d = 1, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0-99 as 1900-1999
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

function bound(ms: number): string {
  if (ms < MIN_MS) return '-infinity';
  if (ms >= MAX_MS) return 'infinity';
  return new Date(ms).toISOString();
}

/**
 * The interval a date value names, by its precision: `2026` a year, `2026-11-25` a day (UTC),
 * `2026-11-25T09:30Z` a minute, `...:15Z` a second, `...:15.250Z` a millisecond. A time needs its
 * offset (Z or ±hh:mm): a time without one could be any of 26 hours. A `+` sent unescaped reads
 * as a space and is taken as the `+` it was.
 */
export function dateInterval(text: string): { start: number; end: number } | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined && zone === undefined) return null;
  const n = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
  const fields = [n(y, 0), n(mo, 1), n(d, 1), n(h, 0), n(mi, 0), n(s, 0), frac === undefined ? 0 : Number(frac.padEnd(3, '0'))] as const;
  if (fields[0] === 0 || fields[1] > 12 || fields[1] < 1 || fields[2] < 1 || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return null;
  const local = utc(...fields);
  if (new Date(local).getUTCDate() !== fields[2]) return null; // 31 April, 29 February of a common year
  let offset = 0;
  if (zone && zone !== 'Z') {
    const [oh, om] = zone.slice(1).split(':').map(Number);
    if (oh > 14 || om > 59) return null;
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const start = local - offset;
  let end: number;
  if (mo === undefined) end = utc(fields[0] + 1, 1);
  else if (d === undefined) end = utc(fields[0], fields[1] + 1);
  else if (h === undefined) end = start + 86_400_000;
  else if (s === undefined) end = start + 60_000;
  else if (frac === undefined) end = start + 1000;
  else end = start + 10 ** (3 - frac.length);
  return { start, end };
}

/** One date alternative with its prefix, as the instants that match it. */
function dateRange(param: string, text: string): DateRange {
  const prefix = PREFIX.exec(text)?.[1] ?? 'eq';
  const date = PREFIX.test(text) ? text.slice(2) : text;
  if (!['eq', 'gt', 'lt', 'ge', 'le'].includes(prefix)) {
    throw invalid(`${param}: the prefix "${prefix}" is not supported here (eq, gt, ge, lt, le are)`);
  }
  const interval = dateInterval(date);
  if (!interval) {
    throw invalid(`${param}: "${date}" is not a date, e.g. 2026-11-25, or a date-time with its offset, e.g. 2026-11-25T09:30:00Z`);
  }
  const start = bound(interval.start);
  const end = bound(interval.end);
  // A stored instant is a point: gt is after the whole interval, le up to its end.
  switch (prefix) {
    case 'ge':
      return { from: start };
    case 'gt':
      return { from: end };
    case 'le':
      return { to: end };
    case 'lt':
      return { to: start };
    default:
      return { from: start, to: end };
  }
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
