/**
 * Logs: pino JSON on stdout (LOG_FORMAT=pretty for people), one line per request with its id,
 * method, route pattern, status, duration, user and site, and the stack of an unexpected error.
 * Never a body, a query string, a password, a token or an Authorization header: request data can
 * hold patient details, so the request itself is not serialised at all, only the fields named here.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import pretty from 'pino-pretty';
import type { Config } from './env';
import type { Metrics } from './metrics';

export type { Logger };

/** A sane incoming X-Request-Id is kept (a proxy's id joins the two logs); anything else gets a new one. */
const REQUEST_ID = /^[\w-]{1,64}$/;

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.LOG_LEVEL,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: nothing here logs headers or bodies, but a future line that did would not leak these.
    redact: { paths: ['*.authorization', '*.password', '*.token', 'req.headers', 'req.body'], censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  return config.LOG_FORMAT === 'pretty' ? pino(options, pretty({ colorize: true, translateTime: 'SYS:standard' })) : pino(options);
}

/** The pattern the request matched, a bounded value for logs and metrics. */
export function routeOf(req: Request, res: Response): string {
  if (req.route) return typeof req.route.path === 'string' ? `${req.baseUrl}${req.route.path}` : 'app';
  return res.statusCode === 404 ? 'unmatched' : 'static';
}

/** The request line and the request's metrics, written when the answer is finished. */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  // The request id (reqId) is bound to every line of the request by pino-http.
  const line = (req: Request, res: Response, responseTime: number) => ({
    method: req.method,
    route: routeOf(req, res),
    status: res.statusCode,
    durationMs: responseTime,
    user: req.user?.username,
    site: req.user?.siteId,
  });
  const http = pinoHttp({
    logger,
    // pino-http binds the whole request (URL with its query, headers) to each line: keep only its id.
    quietReqLogger: true,
    quietResLogger: true,
    serializers: { req: (r: { id: unknown }) => ({ id: r.id }), res: () => undefined },
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, val: { responseTime: number }) => line(req as Request, res as Response, val.responseTime),
    customErrorObject: (req, res, err, val: { responseTime: number }) => ({
      ...line(req as Request, res as Response, val.responseTime),
      err: pino.stdSerializers.err(err),
    }),
  });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => metrics.observeRequest(req.method, routeOf(req, res), res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    http(req, res, () => {
      res.locals.requestId = req.id;
      next();
    });
  };
}
