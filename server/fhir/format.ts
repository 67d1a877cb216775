/**
 * What the FHIR API speaks: JSON only (application/fhir+json), and NDJSON for the export. A
 * request that asks for anything else, by its Accept header or by `_format`, gets 406 rather than
 * JSON it did not ask for.
 */
import type { Request, Response } from 'express';
import { AppError } from '../errors';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
export const FHIR_NDJSON = 'application/fhir+ndjson';

/** The media types a JSON answer satisfies (application/json+fhir is DSTU2's name, still sent by older clients). */
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];
const FORMAT_JSON = new Set(['json', ...JSON_TYPES]);
const NDJSON_TYPES = [FHIR_NDJSON, 'application/ndjson', 'application/x-ndjson'];

function notAcceptable(what: string): AppError {
  return new AppError(406, 'not_acceptable', `${what}: this server answers in JSON only (application/fhir+json)`);
}

/** Refuses a JSON route's request whose Accept header or `_format` asks for another format. */
export function checkFormat(req: Request): void {
  const format = new URL(req.originalUrl, 'http://x').searchParams.getAll('_format');
  if (format.length > 1) throw new AppError(400, 'invalid_search', `_format is given ${format.length} times; it takes one value`);
  if (format.length === 1) {
    if (!FORMAT_JSON.has(format[0].split(';')[0].trim())) throw notAcceptable(`_format=${format[0]}`);
  } else if (req.headers.accept && !req.accepts(JSON_TYPES)) {
    throw notAcceptable(`Accept: ${req.headers.accept}`);
  }
}

/** Refuses an export request whose Accept header asks for no NDJSON. */
export function checkNdjson(req: Request): void {
  if (req.headers.accept && !req.accepts(NDJSON_TYPES)) {
    throw new AppError(406, 'not_acceptable', `Accept: ${req.headers.accept}: the export is NDJSON (${FHIR_NDJSON})`);
  }
}

/** Sends a resource as application/fhir+json. */
export function sendResource(res: Response, resource: object, status = 200): void {
  res.status(status).setHeader('Content-Type', FHIR_JSON);
  res.send(JSON.stringify(resource));
}
