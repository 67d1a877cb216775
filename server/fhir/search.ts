/**
 * The FHIR reads in PostgreSQL: one record by id, and a search page in keyset order
 * (dispensed_at, external_id), the order of the site's dispensed_at index, each page starting
 * after the last one's key as the CSV export does (docs/decisions/export-in-keyset-pages.md). A
 * patient is matched by its match key (schemas/match-key.ts), the expression of the index of a
 * patient's records.
 */
import type { Knex } from 'knex';
import { matchKeySql } from '../../schemas/match-key';
import { iso, recordColumns, rowToDispense, type DispenseRow } from '../records';
import { siteSystem, toMedicationDispense } from './medication-dispense';
import type { MedicationDispense } from './resources';
import type { Condition, Cursor, SearchRequest } from './search-params';

const DATE_COLUMNS = { whenhandedover: 'd.dispensed_at', _lastUpdated: 'd.server_updated_at' } as const;

// The instants of a page's key to the microsecond (a record's own are milliseconds, but an exact key costs nothing).
const COLUMNS = (alias: string) => `${recordColumns(alias)},
  (${alias}.server_updated_at AT TIME ZONE 'UTC')::text AS last_updated,
  to_char(${alias}.dispensed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_at`;

type Row = DispenseRow & { last_updated: string; page_at: string };

/** One condition as SQL, its values appended to `args`. */
function conditionSql(c: Condition, siteId: string, args: unknown[]): string {
  let alternatives: string[];
  if (c.on === 'patient') {
    alternatives = c.anyOf.map((m) => {
      const value = 'id' in m ? m.id : m.identifier.value;
      // An identifier of another system (another site's ids, or none) is no patient of this site.
      if ('identifier' in m && m.identifier.system !== undefined && m.identifier.system !== siteSystem(siteId, 'patient')) return 'FALSE';
      args.push(value);
      return `${matchKeySql('d.patient_id')} = ${matchKeySql('?')}`;
    });
  } else if (c.on === 'status') {
    args.push(...c.anyOf);
    alternatives = c.anyOf.length ? [`d.status IN (${c.anyOf.map(() => '?').join(', ')})`] : [];
  } else {
    const column = DATE_COLUMNS[c.on];
    alternatives = c.anyOf.map((r) => {
      const sides: string[] = [];
      if (r.from !== undefined) {
        sides.push(`${column} >= ?::timestamptz`);
        args.push(r.from);
      }
      if (r.to !== undefined) {
        sides.push(`${column} < ?::timestamptz`);
        args.push(r.to);
      }
      return sides.length ? sides.join(' AND ') : 'TRUE';
    });
  }
  return alternatives.length ? `(${alternatives.join(' OR ')})` : 'FALSE';
}

/** The SQL of a search page: the site's matching records after the cursor, one more than a page (is there a next?). */
export function searchSql(siteId: string, request: SearchRequest): { sql: string; args: unknown[] } {
  const args: unknown[] = [siteId];
  const where = ['d.site_id = ?', ...request.conditions.map((c) => conditionSql(c, siteId, args))];
  if (request.after) {
    where.push('(d.dispensed_at, d.external_id) > (?::timestamptz, ?::uuid)');
    args.push(request.after.at, request.after.id);
  }
  args.push(request.count + 1);
  const sql = `SELECT ${COLUMNS('d')} FROM dispenses d WHERE ${where.join(' AND ')} ORDER BY d.dispensed_at, d.external_id LIMIT ?`;
  return { sql, args };
}

function toResource(row: Row): MedicationDispense {
  return toMedicationDispense(rowToDispense(row), iso(row.last_updated));
}

export interface SearchPage {
  resources: MedicationDispense[];
  /** Where the next page starts; absent on the last page. */
  next?: Cursor;
}

export async function searchDispenses(db: Knex, siteId: string, request: SearchRequest): Promise<SearchPage> {
  const { sql, args } = searchSql(siteId, request);
  const { rows } = (await db.raw(sql, args as Knex.RawBinding[])) as { rows: Row[] };
  const page = rows.slice(0, request.count);
  const last = page[page.length - 1];
  return { resources: page.map(toResource), ...(rows.length > request.count ? { next: { at: last.page_at, id: last.external_id as string } } : {}) };
}

/** The site's record of that id, or undefined (none, or another site's: the same answer). */
export async function readDispense(db: Knex, siteId: string, externalId: string): Promise<MedicationDispense | undefined> {
  const { rows } = (await db.raw(`SELECT ${COLUMNS('d')} FROM dispenses d WHERE d.site_id = ? AND d.external_id = ?::uuid`, [
    siteId,
    externalId,
  ])) as {
    rows: Row[];
  };
  return rows[0] ? toResource(rows[0]) : undefined;
}
