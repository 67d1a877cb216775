/**
 * The API from a test's side, for the server and fault tests and the benchmark: real requests
 * with global fetch (tallied by status when asked), sign-in, the push body RxDB sends, pulls page
 * by page, and the checks that an answer keeps the contract: one error body, a push answer that parses.
 */
import {
  errorBodySchema,
  loginResponseSchema,
  pullResponseSchema,
  pushResponseSchema,
  type ErrorBody,
  type LoginResponse,
  type PullResponse,
  type PushRow,
} from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';

/** The password of a test user unless one is given. */
export const TEST_PASSWORD = 'password123';

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Counts answers by status; `fiveXx` is what a fault scenario reports. */
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
    return [...this.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}×${c}`)
      .join(' ');
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
    // not JSON: the caller's assertions show the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Signs in over HTTP; anything but 200 throws with the answer. */
export async function login(baseUrl: string, username: string, password = TEST_PASSWORD): Promise<LoginResponse> {
  const r = await call(baseUrl, 'POST', '/api/auth/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  return loginResponseSchema.parse(r.body);
}

/** The push body RxDB sends: each record new on the client unless an assumed state is given. */
export function pushBody(docs: Dispense[], assumed?: (Dispense | null)[]): { rows: PushRow[] } {
  return { rows: docs.map((d, i) => ({ newDocumentState: d, assumedMasterState: assumed?.[i] ?? null })) };
}

export function push(baseUrl: string, token: string, body: unknown, opts: Pick<CallOptions, 'headers' | 'tally' | 'signal'> = {}): Promise<Reply> {
  return call(baseUrl, 'POST', '/api/sync/dispenses/push', { ...opts, token, body });
}

export function pull(baseUrl: string, token: string, checkpoint?: string, limit?: number): Promise<Reply> {
  const query = new URLSearchParams();
  if (checkpoint !== undefined) query.set('checkpoint', checkpoint);
  if (limit !== undefined) query.set('limit', String(limit));
  return call(baseUrl, 'GET', `/api/sync/dispenses/pull?${query}`, { token });
}

/**
 * Pulls page after page from a checkpoint until a short page, as a device catching up does; each
 * answer must be a 200 pull answer. With `until`, a short page that lacks one of those records is
 * pulled again after a moment (from its checkpoint): a pull waits for transactions still in
 * progress on the PostgreSQL server, other tests' included.
 */
export async function pullAll(
  baseUrl: string,
  token: string,
  opts: { checkpoint?: string; limit?: number; until?: string[]; timeoutMs?: number } = {},
): Promise<PullResponse & { pages: number[] }> {
  const { limit = 1000, until = [], timeoutMs = 10_000 } = opts;
  const documents: PullResponse['documents'] = [];
  const pages: number[] = [];
  const deadline = Date.now() + timeoutMs;
  let checkpoint = opts.checkpoint;
  for (;;) {
    const r = await pull(baseUrl, token, checkpoint, limit);
    if (r.status !== 200) throw new Error(`pull: ${r.status} ${r.text}`);
    const page = pullResponseSchema.parse(r.body);
    documents.push(...page.documents);
    pages.push(page.documents.length);
    checkpoint = page.checkpoint;
    if (page.documents.length === limit) continue;
    const seen = new Set(documents.map((d) => d.externalId));
    if (until.every((id) => seen.has(id))) return { documents, checkpoint, pages };
    if (Date.now() > deadline) throw new Error(`pull: ${until.filter((id) => !seen.has(id)).length} records never came`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Why a body is not exactly the API's one error shape {error:{code,message,issues?}}, nothing more, or null. */
export function errorBodyProblem(body: unknown): string | null {
  if (!errorBodySchema.safeParse(body).success) return 'not {error: {code, message, issues?}}';
  const keys = Object.keys(body as object);
  if (keys.length !== 1) return `keys besides error: ${keys.join(', ')}`;
  const { error } = body as ErrorBody;
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'issues'].includes(k));
  if (extra.length > 0) return `error holds ${extra.join(', ')}`;
  if (!/^[a-z]+(_[a-z]+)*$/.test(error.code)) return `code ${error.code} is not snake_case`;
  if (error.message.length === 0) return 'empty message';
  return null;
}

/** Asserts the status, and that the body is exactly the one error body with the given code. */
export function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expect(errorBodyProblem(reply.body)).toBeNull();
}

/** Why an answer breaks the API's contract, or null: non-200 answers are exactly the one error body. */
export function contractViolation(r: Reply): string | null {
  if (r.status >= 500 && r.status !== 503) return `status ${r.status}: ${r.text.slice(0, 300)}`;
  if (r.status >= 200 && r.status < 300) return null; // 201 created, 204 no content: successes have their own bodies
  const problem = errorBodyProblem(r.body);
  return problem && `status ${r.status} without the error body (${problem}): ${r.text.slice(0, 300)}`;
}

/** Why a 200 push answer is not a push response, or null. */
export function pushAnswerViolation(r: Reply): string | null {
  if (r.status !== 200) return contractViolation(r);
  const parsed = pushResponseSchema.safeParse(r.body);
  return parsed.success ? null : `200 that is not a push response: ${r.text.slice(0, 300)}`;
}
