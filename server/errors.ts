/**
 * One error class with a code and an HTTP status, and the one sorting of every failure into its
 * answer (errorAnswer), which the middleware sends as the API's error body. Unknown failures
 * become 500 without their message.
 */
import type { ErrorRequestHandler, Response } from 'express';
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

/** What a failure answers: its status, code, message, issues and headers. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  issues?: ErrorIssue[];
  headers: Record<string, string>;
}

/**
 * Sorts a failure into its answer, whatever the envelope it is sent in (the API's error body here,
 * FHIR's OperationOutcome in server/fhir/outcome.ts). An unknown failure is left on `res.err`,
 * where the request log (logging.ts) writes it with its stack and no request data.
 */
export function errorAnswer(err: unknown, res: Response): ErrorAnswer {
  const e = err as { type?: string; status?: number; expose?: boolean };
  if (err instanceof AppError) return { status: err.status, code: err.code, message: err.message, issues: err.issues, headers: err.headers ?? {} };
  if (err instanceof ZodError) {
    return { status: 400, code: 'invalid_request', message: 'The request does not match the API', issues: toIssues(err.issues), headers: {} };
  }
  if (e?.type === 'entity.parse.failed') return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON', headers: {} };
  if (e?.type === 'entity.too.large') {
    return { status: 413, code: 'payload_too_large', message: 'The request body is larger than the server accepts', headers: {} };
  }
  if ((e?.expose || err instanceof URIError) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    // Body-parser's client errors, and the router's URIError for a path that is not valid UTF-8.
    return { status: e.status, code: 'bad_request', message: 'The request could not be read', headers: {} };
  }
  if (isDatabaseUnavailable(err)) {
    const message = 'The database is unavailable; nothing was written. Try again shortly.';
    return { status: 503, code: 'database_unavailable', message, headers: { 'Retry-After': '5' } };
  }
  Object.assign(res, { err }); // pino-http logs res.err with its stack
  return { status: 500, code: 'internal_error', message: 'Something went wrong on the server; nothing was written.', headers: {} };
}

/** The API's error middleware; `onFailure` sees every failure before it is answered (metrics). */
export function errorMiddleware(onFailure: (err: unknown) => void = () => {}): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    onFailure(err);
    const answer = errorAnswer(err, res);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.status(answer.status).json(errorBody(answer.code, answer.message, answer.issues));
  };
}
