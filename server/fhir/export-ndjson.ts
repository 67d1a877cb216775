/**
 * A period's records as NDJSON, one MedicationDispense a line, for national reporting: the
 * search's keyset pages of 1000 written one after another, each before the next is read, as the
 * CSV export does (docs/decisions/export-in-keyset-pages.md), so memory stays flat at any size
 * (docs/benchmarks.md) and nothing is held between pages while a slow client downloads.
 */
import type { Writable } from 'node:stream';
import type { Knex } from 'knex';
import { drained, EXPORT_PAGE } from '../export';
import { searchDispenses } from './search';
import type { Condition, Cursor } from './search-params';

/** Writes the site's records dispensed in [from, to) to `out`, oldest first; stops early if the client goes away. */
export async function writeNdjson(db: Knex, siteId: string, from: Date, to: Date, out: Writable): Promise<number> {
  const period: Condition = { on: 'whenhandedover', anyOf: [{ from: from.toISOString(), to: to.toISOString() }] };
  let written = 0;
  let after: Cursor | undefined;
  for (;;) {
    const page = await searchDispenses(db, siteId, { conditions: [period], count: EXPORT_PAGE, ...(after ? { after } : {}) });
    if (out.destroyed) return written;
    const text = page.resources.map((r) => `${JSON.stringify(r)}\n`).join('');
    written += page.resources.length;
    if (text && !out.write(text)) await drained(out);
    if (!page.next) return written;
    after = page.next;
  }
}
