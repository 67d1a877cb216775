/**
 * The sync's requests to the server and how their failures are sorted: a transport or
 * whole-request failure (network, 401, 429, 5xx, an answer cut off or in an unknown format) is
 * a SyncFailure of a kind the scheduler acts on (status.ts: back off, wait, or ask for a sign-in).
 */
import type { z } from 'zod';
import { errorBodySchema } from '../../schemas/api';

export type FailureKind = 'unauthorized' | 'rate-limited' | 'network' | 'server';

export class SyncFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code: string | null = null,
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'SyncFailure';
  }
}

export interface SyncHttpDeps {
  baseUrl: string;
  /** The token of a user of the database's site, or null (none, or a user of another site signed in). */
  getToken: () => string | null;
  deviceId: string;
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
}

const RETRY_AFTER_DEFAULT_MS = 60_000;

/** Retry-After is seconds or an HTTP date. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number {
  if (!header) return RETRY_AFTER_DEFAULT_MS;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? RETRY_AFTER_DEFAULT_MS : Math.max(0, at - nowMs);
}

async function failureOf(res: Response): Promise<SyncFailure> {
  let code: string | null = null;
  let message = `The server answered ${res.status}`;
  try {
    const body = errorBodySchema.safeParse(await res.json());
    if (body.success) ({ code, message } = body.data.error);
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  if (res.status === 401) return new SyncFailure('unauthorized', message, code ?? 'unauthorized', 401);
  // Nothing to retry until someone signs in: a revoked device, a password that must be changed first.
  if (res.status === 403 && (code === 'device_revoked' || code === 'password_change_required')) {
    return new SyncFailure('unauthorized', message, code, 403);
  }
  if (res.status === 429) {
    return new SyncFailure('rate-limited', message, code ?? 'rate_limited', 429, retryAfterMs(res.headers.get('retry-after')));
  }
  return new SyncFailure('server', message, code, res.status);
}

/**
 * Sends one request of the sync with the session's token and this device's id, and returns the
 * 200 answer parsed by `schema`. `onStatus` may answer a status itself (413: the push halves).
 */
export async function syncRequest<S extends z.ZodType>(
  deps: SyncHttpDeps,
  path: string,
  schema: S,
  init: { method: 'GET' | 'POST'; body?: unknown; onStatus?: (res: Response) => Promise<z.infer<S>> | null },
): Promise<z.infer<S>> {
  const token = deps.getToken();
  if (!token) throw new SyncFailure('unauthorized', 'Not signed in', 'token_missing');
  const doFetch = deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  let res: Response;
  try {
    res = await doFetch(`${deps.baseUrl.replace(/\/$/, '')}${path}`, {
      method: init.method,
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        authorization: `Bearer ${token}`,
        'x-device-id': deps.deviceId,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(deps.requestTimeoutMs ?? 60_000),
    });
  } catch (err) {
    const why = (err as Error)?.name === 'TimeoutError' ? 'the server did not answer in time' : 'no connection';
    throw new SyncFailure('network', `Cannot reach the server (${why})`, 'network');
  }
  const answered = init.onStatus?.(res);
  if (answered) return answered;
  if (res.status !== 200) throw await failureOf(res);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new SyncFailure('network', 'The answer of the server was cut off', 'network');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SyncFailure('server', 'The server answered in an unknown format', 'bad_response', 200);
  return parsed.data;
}
