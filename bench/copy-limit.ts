/**
 * The ceiling: PostgreSQL's COPY of the same records and their audit rows into the same
 * tables, in one transaction — what ingest on this machine cannot beat.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Dispense } from '../schemas/dispense';
import { COLUMNS } from '../server/records';

const FIELDS = Object.keys(COLUMNS) as (keyof Dispense)[];

const csv = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : String(v);
  return /[",\n\r]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s;
};

function* dispenseLines(records: Dispense[]): Generator<string> {
  for (const r of records) yield FIELDS.map((f) => csv(r[f])).join(',') + '\n';
}

function* auditLines(records: Dispense[], actor: string): Generator<string> {
  for (const r of records) yield ['dispense', r.externalId, 'create', actor, '', '{}', '', csv(JSON.stringify(r)), ''].join(',') + '\n';
}

export async function copyRecords(url: string, records: Dispense[], actor: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const start = performance.now();
    await client.query('BEGIN');
    await pipeline(
      Readable.from(dispenseLines(records)),
      client.query(copyFrom(`COPY dispenses (${FIELDS.map((f) => COLUMNS[f]).join(', ')}) FROM STDIN (FORMAT csv)`)),
    );
    await pipeline(
      Readable.from(auditLines(records, actor)),
      client.query(
        copyFrom('COPY audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id) FROM STDIN (FORMAT csv)'),
      ),
    );
    await client.query('COMMIT');
    return performance.now() - start;
  } finally {
    await client.end();
  }
}
