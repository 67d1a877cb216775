/**
 * FHIR's date search values: a date matches by the precision it is written in (a year, a day, a
 * minute, a second, a millisecond), and a prefix (eq, gt, ge, lt, le) turns that interval into
 * the range of stored instants that match it.
 */
import { AppError } from '../errors';

/** An interval [from, to) of instants (ISO text, or PostgreSQL's -infinity / infinity beyond years 1-9999). */
export interface DateRange {
  from?: string;
  to?: string;
}

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

/** One date alternative with its prefix, as the instants that match it; a 400 `invalid_search` for one it cannot read. */
export function dateRange(param: string, text: string): DateRange {
  const prefix = PREFIX.exec(text)?.[1] ?? 'eq';
  const date = PREFIX.test(text) ? text.slice(2) : text;
  if (!['eq', 'gt', 'lt', 'ge', 'le'].includes(prefix)) {
    throw new AppError(400, 'invalid_search', `${param}: the prefix "${prefix}" is not supported here (eq, gt, ge, lt, le are)`);
  }
  const interval = dateInterval(date);
  if (!interval) {
    throw new AppError(
      400,
      'invalid_search',
      `${param}: "${date}" is not a date, e.g. 2026-11-25, or a date-time with its offset, e.g. 2026-11-25T09:30:00Z`,
    );
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
