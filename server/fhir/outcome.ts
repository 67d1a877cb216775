/**
 * Failures of the FHIR API as OperationOutcome resources: the same sorting of failures as the
 * API's (server/errors.ts errorAnswer), the same status and code, in FHIR's envelope. The code
 * goes in details.coding (system urn:sems-dispense:error), the sentence in details.text.
 */
import type { ErrorRequestHandler } from 'express';
import type { ErrorIssue } from '../../schemas/api';
import { errorAnswer } from '../errors';
import { FHIR_JSON } from './format';
import type { OperationOutcome, OperationOutcomeIssue } from './resources';

export const ERROR_SYSTEM = 'urn:sems-dispense:error';

/** FHIR's IssueType for each status this server answers with. */
const ISSUE_TYPES: Record<number, string> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  406: 'not-supported',
  413: 'too-costly',
  429: 'throttled',
  503: 'transient',
};

export function operationOutcome(status: number, code: string, message: string, issues: ErrorIssue[] = []): OperationOutcome {
  const type = code === 'token_expired' ? 'expired' : (ISSUE_TYPES[status] ?? (status >= 500 ? 'exception' : 'processing'));
  const first: OperationOutcomeIssue = { severity: 'error', code: type, details: { coding: [{ system: ERROR_SYSTEM, code }], text: message } };
  // Validation issues (a bad export period) each as an issue of their own, with where they are.
  const more = issues.map((i): OperationOutcomeIssue => ({
    severity: 'error',
    code: 'invalid',
    details: { text: i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message },
  }));
  return { resourceType: 'OperationOutcome', issue: [first, ...more] };
}

/** The error middleware of /fhir: every failure an OperationOutcome, never the API's body or HTML. */
export function fhirErrors(onFailure: (err: unknown) => void = () => {}): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    onFailure(err);
    const answer = errorAnswer(err, res);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    if (answer.status === 401) {
      // RFC 6750: say which scheme, and whether the token was there and refused.
      res.setHeader('WWW-Authenticate', `Bearer realm="sems-dispense"${answer.code === 'token_missing' ? '' : ', error="invalid_token"'}`);
    }
    res.status(answer.status).setHeader('Content-Type', FHIR_JSON);
    res.send(JSON.stringify(operationOutcome(answer.status, answer.code, answer.message, answer.issues)));
  };
}
