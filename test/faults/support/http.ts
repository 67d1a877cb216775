/**
 * Plain HTTP for the fault scenarios: real requests with global fetch, every answer tallied
 * by status so a scenario can say how many 5xx its clients saw, and the one error body checked.
 */
import { errorBodySchema, pushResponseSchema, type PushRow } from '../../../schemas/api';
import type { Dispense } from '../../../schemas/dispense';

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Counts answers by status; `fiveXx` is what a scenario reports. */
export class Tally {
  readonly byStatus = new Map<number, number>();
  networkErrors = 0;
  add(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
  count(pred: (status: number) => boolean): number {
    let n = 0;
    for (const [s, c] of this.byStatus) if (pred(s)) n += c;
    return n;
  }
  get fiveXx(): number {
    return this.count((s) => s >= 500);
  }
  toString(): string {
    return [...this.byStatus].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(' ');
  }
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (content-type application/json unless given), for malformed bodies. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  tally?: Tally;
  signal?: AbortSignal;
}

export async function call<T = any>(baseUrl: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.raw === 'string' ? opts.raw : opts.raw ? new Uint8Array(opts.raw) : JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, { method, headers, body, signal: opts.signal });
  } catch (err) {
    if (opts.tally) opts.tally.networkErrors++;
    throw err;
  }
  opts.tally?.add(res.status);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the assertions show the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** The push body RxDB sends; a record is new on the client unless its assumed state is given. */
export function pushBody(docs: Dispense[], assumed?: (Dispense | null)[]): { rows: PushRow[] } {
  return { rows: docs.map((d, i) => ({ newDocumentState: d, assumedMasterState: assumed?.[i] ?? null })) };
}

export function push(baseUrl: string, token: string, body: unknown, tally?: Tally, headers?: Record<string, string>): Promise<Reply> {
  return call(baseUrl, 'POST', '/api/sync/dispenses/push', { token, body, tally, headers });
}

export async function login(baseUrl: string, username: string, password = 'password123'): Promise<string> {
  const r = await call(baseUrl, 'POST', '/api/auth/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  return r.body.token as string;
}

/** Why an answer breaks the API's contract, or null: non-200 answers are exactly the one error body. */
export function contractViolation(r: Reply): string | null {
  if (r.status >= 500 && r.status !== 503) return `status ${r.status}: ${r.text.slice(0, 300)}`;
  if (r.status === 200) return null;
  const ok =
    errorBodySchema.safeParse(r.body).success &&
    Object.keys(r.body as object).length === 1 &&
    Object.keys((r.body as { error: object }).error).every((k) => ['code', 'message', 'issues'].includes(k)) &&
    /^[a-z]+(_[a-z]+)*$/.test((r.body as { error: { code: string } }).error.code);
  return ok ? null : `status ${r.status} without the error body: ${r.text.slice(0, 300)}`;
}

/** Why a 200 push answer is not a push response, or null. */
export function pushAnswerViolation(r: Reply): string | null {
  if (r.status !== 200) return contractViolation(r);
  const parsed = pushResponseSchema.safeParse(r.body);
  return parsed.success ? null : `200 that is not a push response: ${r.text.slice(0, 300)}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
