/**
 * The read-only FHIR R4 API under /fhir/R4: metadata, MedicationDispense read and search, and a
 * site admin's NDJSON export. The same bearer tokens and site scope as the API; answers are
 * application/fhir+json, failures OperationOutcome, and nothing under /fhir falls through to the
 * app's HTML. docs/fhir.md describes it for the health systems that read it.
 */
import express, { type Request, type RequestHandler } from 'express';
import type { Knex } from 'knex';
import { dispenseShape } from '../../schemas/dispense';
import { exportQuerySchema } from '../../schemas/devices';
import { requireAdmin } from '../auth';
import { AppError } from '../errors';
import { capabilityStatement } from './capability';
import { writeNdjson } from './export-ndjson';
import { checkFormat, checkNdjson, FHIR_NDJSON, sendResource } from './format';
import { fhirErrors } from './outcome';
import type { Bundle, MedicationDispense } from './resources';
import { readDispense, searchDispenses } from './search';
import { CURSOR_PARAM, encodeCursor, parseSearch } from './search-params';

export interface FhirDeps {
  db: Knex;
  /** The API's token check (server/auth.ts requireAuth), and its per-user rate limit. */
  signedIn: RequestHandler;
  apiLimit: RequestHandler;
  /** Sees every failure before it is answered (the metrics). */
  onFailure?: (err: unknown) => void;
}

/** The query string's parameters in the order sent, repeats kept (Express's req.query folds them). */
function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://x').searchParams;
}

/** Refuses every parameter but `allowed`: strict, as the search is. */
function onlyParams(req: Request, allowed: string[]): void {
  for (const key of queryOf(req).keys()) {
    if (!allowed.includes(key)) throw new AppError(400, 'invalid_search', `The parameter "${key}" is not supported here`);
  }
}

/** The absolute base of this FHIR server as the client reached it (behind a trusted proxy, its scheme). */
function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host')}${req.baseUrl}`;
}

const notFound = (what: string) => new AppError(404, 'not_found', what);

export function fhirRoutes({ db, signedIn, apiLimit, onFailure }: FhirDeps): express.Router {
  const r4 = express.Router();
  const started = new Date().toISOString();
  // Patient data: never kept by a browser or a proxy.
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };

  r4.get('/metadata', (req, res) => {
    checkFormat(req);
    onlyParams(req, ['_format']);
    sendResource(res, capabilityStatement(baseUrl(req), started));
  });

  // Before /:id, which would take "$export-ndjson" for an id.
  r4.get('/MedicationDispense/$export-ndjson', signedIn, apiLimit, requireAdmin, noStore, async (req, res) => {
    checkNdjson(req);
    onlyParams(req, ['from', 'to']);
    const { from, to } = exportQuerySchema.parse(req.query);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const site = req.user!.siteId.replace(/[^A-Za-z0-9._-]/g, '_');
    res.setHeader('Content-Type', FHIR_NDJSON);
    res.setHeader('Content-Disposition', `attachment; filename="medication-dispenses-${site}-${day(from)}-to-${day(to)}.ndjson"`);
    try {
      await writeNdjson(db, req.user!.siteId, from, to, res);
      res.end();
    } catch (err) {
      // Once lines are sent the status cannot change: cut the download so it is not taken as whole.
      if (!res.headersSent) throw err;
      res.destroy(err as Error);
    }
  });

  r4.get('/MedicationDispense/:id', signedIn, apiLimit, noStore, async (req, res) => {
    checkFormat(req);
    onlyParams(req, ['_format']);
    const id = String(req.params.id).toLowerCase(); // ids are stored in lower case
    // Another site's record answers exactly like a missing one; a near-UUID too, rather than a failed cast.
    const found = dispenseShape.externalId.safeParse(id).success ? await readDispense(db, req.user!.siteId, id) : undefined;
    if (!found) throw notFound(`No MedicationDispense ${id} at your site`);
    sendResource(res, found);
  });

  r4.get('/MedicationDispense', signedIn, apiLimit, noStore, async (req, res) => {
    checkFormat(req);
    const params = queryOf(req);
    const page = await searchDispenses(db, req.user!.siteId, parseSearch(params));
    const base = baseUrl(req);
    const link: Bundle<MedicationDispense>['link'] = [{ relation: 'self', url: `${base}/MedicationDispense${params.size ? `?${params}` : ''}` }];
    if (page.next) {
      const next = new URLSearchParams(params);
      next.delete(CURSOR_PARAM);
      next.set(CURSOR_PARAM, encodeCursor(page.next));
      link.push({ relation: 'next', url: `${base}/MedicationDispense?${next}` });
    }
    const bundle: Bundle<MedicationDispense> = { resourceType: 'Bundle', type: 'searchset', timestamp: new Date().toISOString(), link };
    // FHIR's JSON has no empty arrays: a search that matches nothing has no entry at all.
    if (page.resources.length > 0) {
      bundle.entry = page.resources.map((resource) => ({
        fullUrl: `${base}/MedicationDispense/${resource.id}`,
        resource,
        search: { mode: 'match' },
      }));
    }
    sendResource(res, bundle);
  });

  r4.all(['/metadata', '/MedicationDispense', '/MedicationDispense/:id'], (req, _res, next) => {
    next(new AppError(405, 'method_not_allowed', `${req.method}: this FHIR API is read-only (GET)`, undefined, { Allow: 'GET, HEAD' }));
  });

  const fhir = express.Router();
  fhir.use('/R4', r4);
  fhir.use((_req, _res, next) => next(notFound('No such FHIR route: this server serves /fhir/R4/metadata and /fhir/R4/MedicationDispense')));
  fhir.use(fhirErrors(onFailure));
  return fhir;
}
