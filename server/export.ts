/**
 * The site's dispensing log for a period as CSV (RFC 4180, UTF-8, a header row): the records
 * dispensed in [from, to), oldest first. Read in keyset pages of 1000 along the site's
 * dispensed_at index, each page written before the next is read, so memory stays flat at any
 * size and no connection or transaction is held while a slow client downloads
 * (docs/decisions/export-in-keyset-pages.md).
 */
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { DISPENSE_FIELDS, type Dispense } from '../schemas/dispense';
import { recordColumns, rowToDispense, type DispenseRow } from './records';

export const EXPORT_PAGE = 1000;

/**
 * One CSV cell. Text a spreadsheet would run as a formula (starting with = + - @, or a tab or
 * carriage return that some strip first) gets a leading apostrophe (OWASP's advice); a cell with
 * a quote, comma or line break is quoted, its quotes doubled.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const EXPORT_HEADER = csvLine(DISPENSE_FIELDS);

export function csvRecord(d: Dispense): string {
  return csvLine(DISPENSE_FIELDS.map((f) => d[f]));
}

const PAGE_SQL = (after: boolean) => `SELECT ${recordColumns('d')}, d.dispensed_at::text AS page_at
  FROM dispenses d
  WHERE d.site_id = ? AND d.dispensed_at >= ? AND d.dispensed_at < ?${after ? ' AND (d.dispensed_at, d.external_id) > (?::timestamptz, ?::uuid)' : ''}
  ORDER BY d.dispensed_at, d.external_id
  LIMIT ${EXPORT_PAGE}`;

/** The offset an ISO date-time names (+02:00, -0500, Z), in ms; a plain day has none. */
function offsetMs(text: string): number {
  const m = text.length > 10 ? /([+-])(\d\d):?(\d\d)$/.exec(text) : null;
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : 0;
}

/**
 * The file's name by the days it holds: the day of `from` and the last day before `to` (which is
 * excluded), each read in the offset its query text gives. The app asks for its local days, as
 * midnights with the device's offset, so "1 to 7 December" is named `…-2026-12-01-to-2026-12-07.csv`.
 */
export function exportFileName(siteId: string, text: { from: string; to: string }, period: { from: Date; to: Date }): string {
  const day = (at: number, query: string) => new Date(at + offsetMs(query)).toISOString().slice(0, 10);
  const site = siteId.replace(/[^A-Za-z0-9._-]/g, '_');
  return `dispenses-${site}-${day(period.from.getTime(), text.from)}-to-${day(period.to.getTime() - 1, text.to)}.csv`;
}

/** Waits until `out` takes more (backpressure), or fails if the client went away. */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', done);
      reject(new Error('export: the client went away'));
    };
    out.once('drain', done);
    out.once('close', closed);
  });
}

/** Writes the period's records to `out` page by page; stops early if the client goes away. */
export async function writeExport(db: Knex, siteId: string, from: Date, to: Date, out: Writable): Promise<number> {
  let written = 0;
  // The last row's key, its instant as PostgreSQL's own text (exact to the microsecond).
  let last: { at: string; id: string } | null = null;
  if (!out.write(EXPORT_HEADER)) await drained(out);
  for (;;) {
    const args: string[] = [siteId, from.toISOString(), to.toISOString()];
    if (last) args.push(last.at, last.id);
    const { rows } = (await db.raw(PAGE_SQL(last !== null), args)) as { rows: (DispenseRow & { page_at: string })[] };
    if (out.destroyed) return written;
    const text = rows.map((r) => csvRecord(rowToDispense(r))).join('');
    written += rows.length;
    if (rows.length > 0 && !out.write(text)) await drained(out);
    if (rows.length < EXPORT_PAGE) return written;
    const tail = rows[rows.length - 1];
    last = { at: tail.page_at, id: tail.external_id as string };
  }
}
