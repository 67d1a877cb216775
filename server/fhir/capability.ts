/**
 * The CapabilityStatement (`GET /fhir/R4/metadata`, no token needed): what this server does,
 * from the same list of search parameters the parser accepts, so the two cannot disagree.
 */
import { CURSOR_PARAM, DEFAULT_COUNT, MAX_COUNT, SEARCH_PARAMS } from './search-params';

const SEARCH_PARAM_DOCS: Record<keyof typeof SEARCH_PARAMS, { definition?: string; documentation: string }> = {
  patient: {
    definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient',
    documentation:
      'The patient id as the site records it (`P-1001` or `Patient/P-1001`), matched ignoring case and surrounding space; or `patient:identifier=[system|]value`.',
  },
  whenhandedover: {
    definition: 'http://hl7.org/fhir/SearchParameter/MedicationDispense-whenhandedover',
    documentation:
      'When it was dispensed; prefixes eq (or none), ge, gt, le, lt; repeat it for a range. A day is a UTC day; a time needs its offset.',
  },
  status: {
    definition: 'http://hl7.org/fhir/SearchParameter/medications-status',
    documentation: 'completed (dispensed) or entered-in-error (voided); the other MedicationDispense codes match no record.',
  },
  _lastUpdated: {
    definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated',
    documentation: "The server's last change of the record; prefixes as whenhandedover.",
  },
  _count: { documentation: `Records per page, 1 to ${MAX_COUNT} (default ${DEFAULT_COUNT}).` },
};

export function capabilityStatement(baseUrl: string, date: string): object {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: 'SEMS Dispense',
    kind: 'instance',
    software: { name: 'SEMS Dispense' },
    implementation: { description: "SEMS Dispense: a pharmacy site's dispensing log as MedicationDispense, read-only", url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation:
          `Read-only, JSON only. Search by GET; strict: an unknown parameter, modifier or prefix, or a malformed value, is 400 with an OperationOutcome. ` +
          `Pages follow the next link (its ${CURSOR_PARAM} is opaque); a Bundle gives no total.`,
        security: {
          cors: false,
          description:
            "Authorization: Bearer <token> from POST /api/auth/login; a user reads their own site's records only (another site's record is 404).",
        },
        resource: [
          {
            type: 'MedicationDispense',
            documentation:
              "A site admin downloads a period's records as NDJSON: GET MedicationDispense/$export-ndjson?from=YYYY-MM-DD&to=YYYY-MM-DD (application/fhir+ndjson).",
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            versioning: 'no-version',
            readHistory: false,
            updateCreate: false,
            searchParam: Object.entries(SEARCH_PARAMS).map(([name, type]) => ({
              name,
              ...SEARCH_PARAM_DOCS[name as keyof typeof SEARCH_PARAMS],
              type,
            })),
          },
        ],
      },
    ],
  };
}
