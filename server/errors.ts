/**
 * One error class with a code and an HTTP status, and the one middleware that turns every
 * failure into the API's error body. Unknown failures become 500 without their message.
 */
import type { ErrorRequestHandler } from 'express';
import { ZodError, type z } from 'zod';
import type { ErrorBody, ErrorIssue } from '../schemas/api';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: ErrorIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function toIssues(issues: z.core.$ZodIssue[]): ErrorIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    code: i.code,
    message: i.message,
  }));
}

export function errorBody(code: string, message: string, issues?: ErrorIssue[]): ErrorBody {
  return { error: issues ? { code, message, issues } : { code, message } };
}

// Connection-level failures of PostgreSQL (class 08, shutdown 57P0x) and of the driver or pool.
const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03']);

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (DB_DOWN_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (e.name === 'KnexTimeoutError') return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(e.message ?? '');
}

/**
 * `onFailure` sees every failure before it is answered (metrics). An unknown failure is left on
 * `res.err`, where the request log (logging.ts) writes it with its stack and no request data.
 */
export function errorMiddleware(onFailure: (err: unknown) => void = () => {}): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    onFailure(err);
    let status = 500;
    let body: ErrorBody;
    const e = err as { type?: string; status?: number; expose?: boolean };
    if (err instanceof AppError) {
      status = err.status;
      body = errorBody(err.code, err.message, err.issues);
      for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
    } else if (err instanceof ZodError) {
      status = 400;
      body = errorBody('invalid_request', 'The request does not match the API', toIssues(err.issues));
    } else if (e?.type === 'entity.parse.failed') {
      status = 400;
      body = errorBody('invalid_json', 'The request body is not valid JSON');
    } else if (e?.type === 'entity.too.large') {
      status = 413;
      body = errorBody('payload_too_large', 'The request body is larger than the server accepts');
    } else if ((e?.expose || err instanceof URIError) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      // Body-parser's client errors, and the router's URIError for a path that is not valid UTF-8.
      status = e.status;
      body = errorBody('bad_request', 'The request could not be read');
    } else if (isDatabaseUnavailable(err)) {
      status = 503;
      res.setHeader('Retry-After', '5');
      body = errorBody('database_unavailable', 'The database is unavailable; nothing was written. Try again shortly.');
    } else {
      (res as typeof res & { err?: unknown }).err = err;
      body = errorBody('internal_error', 'Something went wrong on the server; nothing was written.');
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}
