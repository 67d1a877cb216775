/**
 * A plain Node client of the push endpoint: batches as RxDB sends them, or one record per
 * request as the design this app replaces did. Checks every answer: a benchmark that
 * silently lost rows would measure nothing.
 */
import type { PushResponse } from '../schemas/api';
import type { Dispense } from '../schemas/dispense';
import { push, pushBody } from '../test/support/api';

/** Pushes records as new, or, `asRepush`, as the state the server holds (a lost checkpoint). */
async function pushBatch(url: string, token: string, docs: Dispense[], asRepush: boolean): Promise<PushResponse> {
  const res = await push(url, token, pushBody(docs, asRepush ? docs : undefined), { headers: { 'x-device-id': 'bench' } });
  if (res.status !== 200) throw new Error(`push: HTTP ${res.status} ${res.text}`);
  const body = res.body as PushResponse;
  if (body.conflicts.length || body.rejected.length) {
    throw new Error(`push: ${body.conflicts.length} conflicts, ${body.rejected.length} rejected: ${JSON.stringify(body.rejected[0])}`);
  }
  return body;
}

/**
 * Pushes every record in batches of `batchSize`, one request after another (or `inFlight` at a
 * time, as the app sends its requests); returns ms.
 */
export async function pushAll(url: string, token: string, records: Dispense[], batchSize: number, asRepush = false, inFlight = 1): Promise<number> {
  const start = performance.now();
  let next = 0;
  const sender = async () => {
    for (let i = next; i < records.length; i = next) {
      next += batchSize;
      await pushBatch(url, token, records.slice(i, i + batchSize), asRepush);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
  return performance.now() - start;
}
