/**
 * A plain Node client of the push endpoint: batches as RxDB sends them, or one record per
 * request as the design this app replaces did. Checks every answer: a benchmark that
 * silently lost rows would measure nothing.
 */
import type { PushResponse } from '../schemas/api';
import type { Dispense } from '../schemas/dispense';

export async function pushBatch(url: string, token: string, rows: { doc: Dispense; assumed: Dispense | null }[]): Promise<PushResponse> {
  const res = await fetch(`${url}/api/sync/dispenses/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-device-id': 'bench' },
    body: JSON.stringify({ rows: rows.map((r) => ({ newDocumentState: r.doc, assumedMasterState: r.assumed })) }),
  });
  if (res.status !== 200) throw new Error(`push: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as PushResponse;
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
      const slice = records.slice(i, i + batchSize);
      await pushBatch(url, token, slice.map((doc) => ({ doc, assumed: asRepush ? doc : null })));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
  return performance.now() - start;
}

export async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
