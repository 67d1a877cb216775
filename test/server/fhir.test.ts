/**
 * The FHIR R4 API over real HTTP, on real PostgreSQL, with real tokens: every resource it answers
 * (MedicationDispense, Bundle, OperationOutcome, CapabilityStatement) is checked by @medplum's
 * validator against the specification's definitions, and fhir-kit-client reads the search pages
 * as a health system would.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'fhir-kit-client';
import type { Dispense } from '../../schemas/dispense';
import { call, push, pushBody, type Reply } from '../support/api';
import { expectValidFhir } from '../support/fhir';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let clientDir: string;
let alice: string; // site-a pharmacist
let adele: string; // site-a admin
let zed: string; // site-b pharmacist
const siteA: Dispense[] = [];
let otherSite: Dispense;
let voided: Dispense;
/** meta.lastUpdated of each site-a record, as the server answers it. */
const lastUpdated = new Map<string, string>();

const BASE = '/fhir/R4';
const FHIR_JSON = /^application\/fhir\+json; charset=utf-8$/;

function get(pathAndQuery: string, token?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return call(server.url, 'GET', `${BASE}${pathAndQuery}`, { token, headers });
}

/** A 200 FHIR JSON answer, valid FHIR R4. */
function expectResource(r: Reply, resourceType: string): any {
  expect({ status: r.status, type: r.headers.get('content-type') }).toEqual({ status: 200, type: expect.stringMatching(FHIR_JSON) });
  expect(r.body.resourceType).toBe(resourceType);
  expectValidFhir(r.body);
  return r.body;
}

/** An OperationOutcome with that status and error code, valid FHIR R4 (never HTML, never the API's error body). */
function expectOutcome(r: Reply, status: number, code: string): any {
  expect({
    status: r.status,
    type: r.headers.get('content-type'),
    resourceType: r.body?.resourceType,
    code: r.body?.issue?.[0]?.details?.coding?.[0]?.code,
  }).toEqual({
    status,
    type: expect.stringMatching(FHIR_JSON),
    resourceType: 'OperationOutcome',
    code,
  });
  expectValidFhir(r.body);
  return r.body;
}

/** The ids of a searchset Bundle's entries, in order. */
const ids = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource.id);
const byDispensed = (a: Dispense, b: Dispense) => a.dispensedAt.localeCompare(b.dispensedAt) || a.externalId.localeCompare(b.externalId);
const sortedIds = (records: Dispense[]) => [...records].sort(byDispensed).map((d) => d.externalId);

async function search(query: string, token = alice): Promise<any> {
  return expectResource(await get(`/MedicationDispense?${query}`, token), 'Bundle');
}

beforeAll(async () => {
  // A built client to fall through to, so a FHIR path that did fall through would come back as HTML.
  clientDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-fhir-client-'));
  fs.writeFileSync(path.join(clientDir, 'index.html'), '<!doctype html><title>SEMS Dispense</title>');
  server = await startTestServer({ CLIENT_DIST: clientDir });
  await seedUsers(server.db, [
    { username: 'alice', siteId: 'site-a' },
    { username: 'adele', siteId: 'site-a', role: 'admin' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  [alice, adele, zed] = await Promise.all(['alice', 'adele', 'zed'].map(async (u) => (await server.login(u)).token));

  const at = (iso: string, fields: Partial<Dispense> = {}) =>
    makeDispense({ siteId: 'site-a', dispensedBy: 'alice', dispensedAt: iso, updatedAt: iso, ...fields });
  siteA.push(
    at('2026-11-20T08:00:00.000Z', { patientId: 'P-1001', prescriptionRef: 'RX-1', prescriber: 'Dr. Okafor' }),
    at('2026-11-21T10:00:00.000Z', { patientId: 'p-1001 ', unit: 'ml', quantity: 150 }),
    at('2026-11-21T23:30:00.000Z', { patientId: 'P-2002' }),
    at('2026-11-22T00:00:00.000Z', { patientId: 'P-3003', notes: 'Counselled', editReason: 'Quantity corrected' }),
    at('2026-11-23T12:00:00.000Z', { patientId: 'P-1001', duplicateConfirmedBy: 'alice', duplicateConfirmedAt: '2026-11-23T11:59:30.000Z' }),
    // Three records sharing one instant: paging must neither skip nor repeat them.
    ...[0, 1, 2].map(() => at('2026-11-24T09:00:00.000Z', { patientId: 'P-4004' })),
  );
  otherSite = makeDispense({ siteId: 'site-b', dispensedBy: 'zed', patientId: 'P-1001', dispensedAt: '2026-11-21T10:00:00.000Z' });
  expect((await push(server.url, alice, pushBody(siteA))).body).toEqual({ conflicts: [], rejected: [] });
  expect((await push(server.url, zed, pushBody([otherSite]))).body).toEqual({ conflicts: [], rejected: [] });

  // The last write of site-a: a record voided with its reason.
  const original = siteA[4];
  voided = { ...original, status: 'voided', voidReason: 'Dispensed to the wrong patient', updatedAt: '2026-11-23T12:05:00.000Z' };
  expect((await push(server.url, alice, pushBody([voided], [original]))).body).toEqual({ conflicts: [], rejected: [] });
  siteA[4] = voided;

  for (const d of siteA) {
    lastUpdated.set(d.externalId, expectResource(await get(`/MedicationDispense/${d.externalId}`, alice), 'MedicationDispense').meta.lastUpdated);
  }
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(clientDir, { recursive: true, force: true });
});

describe('GET /fhir/R4/metadata', () => {
  test('without a token it answers a valid CapabilityStatement: MedicationDispense read and search-type, with each search parameter and its type', async () => {
    const cs = expectResource(await get('/metadata'), 'CapabilityStatement');
    expect(cs).toMatchObject({ fhirVersion: '4.0.1', kind: 'instance', format: ['json'] });
    const [resource] = cs.rest[0].resource;
    expect(resource.type).toBe('MedicationDispense');
    expect(resource.interaction).toEqual([{ code: 'read' }, { code: 'search-type' }]);
    expect(resource.searchParam.map((p: any) => [p.name, p.type])).toEqual([
      ['patient', 'reference'],
      ['whenhandedover', 'date'],
      ['status', 'token'],
      ['_lastUpdated', 'date'],
      ['_count', 'number'],
    ]);
  });
});

describe('GET /fhir/R4/MedicationDispense/:id', () => {
  test('it answers the record as a valid MedicationDispense, its externalId the id', async () => {
    const r = expectResource(await get(`/MedicationDispense/${siteA[0].externalId}`, alice), 'MedicationDispense');
    expect(r).toMatchObject({
      id: siteA[0].externalId,
      status: 'completed',
      whenHandedOver: '2026-11-20T08:00:00.000Z',
      subject: { identifier: { system: 'urn:sems-dispense:site:site-a:patient', value: 'P-1001' } },
      authorizingPrescription: [{ identifier: { value: 'RX-1' }, display: 'Prescribed by Dr. Okafor' }],
    });
  });

  test('a voided record reads as entered-in-error with the void reason, and its last change as meta.lastUpdated', async () => {
    const r = expectResource(await get(`/MedicationDispense/${voided.externalId}`, alice), 'MedicationDispense');
    expect(r.status).toBe('entered-in-error');
    expect(r.statusReasonCodeableConcept).toEqual({ text: 'Dispensed to the wrong patient' });
    const [row] = (await server.db.raw('SELECT server_updated_at FROM dispenses WHERE external_id = ?', [voided.externalId])).rows;
    expect(r.meta.lastUpdated).toBe(new Date(row.server_updated_at).toISOString());
  });

  test("another site's record is 404, exactly like an id nobody holds", async () => {
    const other = expectOutcome(await get(`/MedicationDispense/${otherSite.externalId}`, alice), 404, 'not_found');
    const missing = expectOutcome(await get(`/MedicationDispense/${randomUUID()}`, alice), 404, 'not_found');
    expect(other.issue[0].code).toBe('not-found');
    expect(JSON.stringify(other)).not.toContain(otherSite.patientId);
    expect(JSON.stringify(other).replace(otherSite.externalId, '')).toBe(JSON.stringify(missing).replace(/[0-9a-f-]{36}/, ''));
  });

  test.each(['not-a-uuid', "x' OR '1'='1", '%24export-ndjson'])('the id %p is a 404 OperationOutcome', async (id) => {
    expectOutcome(await get(`/MedicationDispense/${id}`, alice), 404, 'not_found');
  });
});

describe('GET /fhir/R4/MedicationDispense (search)', () => {
  test("with no parameters it answers the site's records, oldest first, as a valid searchset with a self link and no next", async () => {
    const b = await search('');
    expect(b.type).toBe('searchset');
    expect(ids(b)).toEqual(sortedIds(siteA));
    expect(b.link).toEqual([{ relation: 'self', url: `${server.url}${BASE}/MedicationDispense` }]);
    expect(b.entry[0].fullUrl).toBe(`${server.url}${BASE}/MedicationDispense/${b.entry[0].resource.id}`);
  });

  test("by patient, in any case and spacing and as Patient/<id>, it finds that patient's records at the site only", async () => {
    const expected = sortedIds(siteA.filter((d) => d.patientId.trim().toLowerCase() === 'p-1001'));
    expect(expected).toHaveLength(3);
    expect(ids(await search('patient=P-1001'))).toEqual(expected);
    expect(ids(await search('patient=%20p-1001'))).toEqual(expected);
    expect(ids(await search('patient=Patient/P-1001'))).toEqual(expected);
    expect(ids(await search('patient=P-1001', zed))).toEqual([otherSite.externalId]);
  });

  test("by patient:identifier, the site's patient system matches and another site's does not", async () => {
    expect(ids(await search(`patient:identifier=${encodeURIComponent('urn:sems-dispense:site:site-a:patient|P-1001')}`))).toHaveLength(3);
    const other = await search(`patient:identifier=${encodeURIComponent('urn:sems-dispense:site:site-b:patient|P-1001')}`);
    expect(other).not.toHaveProperty('entry');
  });

  test('by a date range (ge and lt), it finds the records handed over in it, the end excluded', async () => {
    const b = await search('whenhandedover=ge2026-11-21&whenhandedover=lt2026-11-22');
    expect(ids(b)).toEqual(sortedIds([siteA[1], siteA[2]]));
  });

  test('by a day (eq) and by an instant with an offset', async () => {
    expect(ids(await search('whenhandedover=2026-11-21'))).toEqual(sortedIds([siteA[1], siteA[2]]));
    expect(ids(await search(`whenhandedover=${encodeURIComponent('2026-11-22T01:00:00+01:00')}`))).toEqual([siteA[3].externalId]);
  });

  test('by status: entered-in-error finds the voided record, completed the others', async () => {
    expect(ids(await search('status=entered-in-error'))).toEqual([voided.externalId]);
    expect(ids(await search('status=completed'))).toEqual(sortedIds(siteA.filter((d) => d !== voided)));
  });

  test("by _lastUpdated, it finds the records by the server's last change: the void came last", async () => {
    const voidedAt = lastUpdated.get(voided.externalId)!;
    expect([...lastUpdated.values()].filter((v) => v >= voidedAt)).toEqual([voidedAt]);
    expect(ids(await search(`_lastUpdated=ge${voidedAt}`))).toEqual([voided.externalId]);
    expect(ids(await search(`_lastUpdated=lt${voidedAt}`))).toEqual(sortedIds(siteA.filter((d) => d !== voided)));
  });

  test('paging with _count=1 visits every record exactly once through the next links, every page valid', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${server.url}${BASE}/MedicationDispense?_count=1`;
    while (url && seen.length <= siteA.length) {
      const b = expectResource(await call(url, 'GET', '', { token: alice }), 'Bundle');
      expect(b.entry).toHaveLength(1);
      seen.push(...ids(b));
      url = b.link.find((l: any) => l.relation === 'next')?.url;
    }
    expect(url).toBeUndefined();
    expect(seen).toEqual(sortedIds(siteA));
  });

  test('the next link keeps the search: paging one patient by 2 stays on that patient', async () => {
    const first = await search('patient=P-1001&_count=2');
    const next = first.link.find((l: any) => l.relation === 'next').url as string;
    expect(new URL(next).searchParams.get('patient')).toBe('P-1001');
    const second = expectResource(await call(next, 'GET', '', { token: alice }), 'Bundle');
    expect([...ids(first), ...ids(second)]).toEqual(sortedIds(siteA.filter((d) => d.patientId.trim().toLowerCase() === 'p-1001')));
    expect(second.link.map((l: any) => l.relation)).toEqual(['self']);
  });

  test("a search that matches nothing is a valid Bundle with no entry; another site's records never appear", async () => {
    expect(await search('patient=nobody')).not.toHaveProperty('entry');
    const all = await search('_count=1000');
    expect(ids(all)).not.toContain(otherSite.externalId);
  });

  test.each([
    ['whenhandedover=2026-13-01', /not a date/],
    ['whenhandedover=2026-11-21T10:00:00', /not a date/],
    ['whenhandedover=ne2026-11-21', /"ne" is not supported/],
    ['status=dispensed', /not a MedicationDispense status/],
    ['_count=0', /1 to 1000/],
    ['_count=5000', /1 to 1000/],
    ['_cursor=garbage', /not a page position/],
    ['patient=', /has no value/],
    ['foo=bar', /"foo" is not supported/],
    ['_sort=whenhandedover', /"_sort" is not supported/],
  ])('the malformed or unsupported %s is a 400 OperationOutcome saying why', async (query, why) => {
    const oo = expectOutcome(await get(`/MedicationDispense?${query}`, alice), 400, 'invalid_search');
    expect(oo.issue[0].code).toBe('invalid');
    expect(oo.issue[0].details.text).toMatch(why);
  });
});

describe('a health system reading with fhir-kit-client', () => {
  test('search and nextPage walk every record of the site, each page a valid Bundle', async () => {
    const client = new Client({ baseUrl: `${server.url}${BASE}`, bearerToken: alice });
    const seen: string[] = [];
    let bundle: any = await client.search({ resourceType: 'MedicationDispense', searchParams: { _count: 3 } });
    while (bundle) {
      expectValidFhir(bundle);
      seen.push(...ids(bundle));
      bundle = await client.nextPage({ bundle });
    }
    expect(seen).toEqual(sortedIds(siteA));
  });

  test("it searches by patient and date range, reads a record, and gets another site's as a 404 OperationOutcome", async () => {
    const client = new Client({ baseUrl: `${server.url}${BASE}`, bearerToken: alice });
    const found: any = await client.search({
      resourceType: 'MedicationDispense',
      searchParams: { patient: 'p-1001', whenhandedover: ['ge2026-11-21', 'lt2026-11-24'] },
    });
    expect(ids(found)).toEqual(sortedIds([siteA[1], voided]));
    const read: any = await client.read({ resourceType: 'MedicationDispense', id: voided.externalId });
    expectValidFhir(read);
    expect(read.status).toBe('entered-in-error');
    const failure = await client.read({ resourceType: 'MedicationDispense', id: otherSite.externalId }).catch((err: any) => err);
    expect(failure.response.status).toBe(404);
    expectValidFhir(failure.response.data);
    expect((await client.capabilityStatement()).resourceType).toBe('CapabilityStatement');
  });
});

describe('tokens, methods and formats', () => {
  test('no token is a 401 OperationOutcome asking for a Bearer token', async () => {
    const r = await get('/MedicationDispense');
    expect(expectOutcome(r, 401, 'token_missing').issue[0].code).toBe('login');
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="sems-dispense"');
  });

  test('a malformed token is a 401 OperationOutcome', async () => {
    const r = await get(`/MedicationDispense/${siteA[0].externalId}`, 'not.a.token');
    expectOutcome(r, 401, 'token_malformed');
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="sems-dispense", error="invalid_token"');
  });

  test.each(['/unknown', '/Patient/P-1001', '/', '/MedicationDispense/_history'])(
    '%s under /fhir/R4 is a FHIR 404, never the app’s HTML',
    async (p) => {
      expectOutcome(await get(p, alice), 404, 'not_found');
    },
  );

  test.each(['/fhir', '/fhir/', '/fhir/R5/metadata', '/fhir/index.html'])('%s is a FHIR 404 too', async (p) => {
    expectOutcome(await call(server.url, 'GET', p), 404, 'not_found');
  });

  test('the app still serves its HTML outside /fhir (so the 404s above are not for want of a client)', async () => {
    const r = await call(server.url, 'GET', '/some/app/page');
    expect(r.text).toContain('<title>SEMS Dispense</title>');
  });

  test.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s is a 405 OperationOutcome: the API is read-only', async (method) => {
    const r = await call(server.url, method, `${BASE}/MedicationDispense/${siteA[0].externalId}`, { token: alice, body: {} });
    expectOutcome(r, 405, 'method_not_allowed');
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    expectOutcome(
      await call(server.url, 'POST', `${BASE}/MedicationDispense/_search`, { token: alice, raw: 'patient=P-1001' }),
      405,
      'method_not_allowed',
    );
  });

  test('a request for XML, by Accept or by _format, is a 406 OperationOutcome; JSON in any of its names is answered', async () => {
    expectOutcome(await get('/metadata', undefined, { accept: 'application/fhir+xml' }), 406, 'not_acceptable');
    expectOutcome(await get('/MedicationDispense?_format=xml', alice), 406, 'not_acceptable');
    for (const accept of [
      'application/fhir+json',
      'application/json',
      'application/json+fhir',
      '*/*',
      'application/fhir+xml;q=1, application/fhir+json;q=0.5',
    ]) {
      expectResource(await get('/MedicationDispense?_count=1', alice, { accept }), 'Bundle');
    }
    expectResource(await get('/MedicationDispense?_format=application/fhir%2Bjson&_count=1', alice), 'Bundle');
  });

  test('answers with patient data are not cached', async () => {
    expect((await get('/MedicationDispense?_count=1', alice)).headers.get('cache-control')).toBe('no-store');
    expect((await get(`/MedicationDispense/${siteA[0].externalId}`, alice)).headers.get('cache-control')).toBe('no-store');
  });
});

describe('GET /fhir/R4/MedicationDispense/$export-ndjson', () => {
  test("a site admin gets the period's records as NDJSON, one valid MedicationDispense a line, oldest first", async () => {
    const r = await call(server.url, 'GET', `${BASE}/MedicationDispense/$export-ndjson?from=2026-11-21&to=2026-11-24`, { token: adele });
    expect({ status: r.status, type: r.headers.get('content-type') }).toEqual({ status: 200, type: 'application/fhir+ndjson' });
    expect(r.text.endsWith('\n')).toBe(true);
    const lines = r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    lines.forEach(expectValidFhir);
    expect(lines.map((l) => l.id)).toEqual(sortedIds(siteA.filter((d) => d.dispensedAt >= '2026-11-21' && d.dispensedAt < '2026-11-24')));
    expect(lines.find((l) => l.id === voided.externalId).status).toBe('entered-in-error');
  });

  test('a pharmacist is refused with a 403 OperationOutcome', async () => {
    expectOutcome(
      await call(server.url, 'GET', `${BASE}/MedicationDispense/$export-ndjson?from=2026-11-01&to=2026-12-01`, { token: alice }),
      403,
      'forbidden',
    );
  });

  test.each(['from=2026-11-21', 'from=2026-12-01&to=2026-11-01', 'from=2025-01-01&to=2026-12-01', 'from=2026-11-01&to=2026-12-01&patient=P-1'])(
    'the bad period or parameter %s is a 400 OperationOutcome',
    async (query) => {
      const r = await call(server.url, 'GET', `${BASE}/MedicationDispense/$export-ndjson?${query}`, { token: adele });
      expect(r.status).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expectValidFhir(r.body);
    },
  );
});
