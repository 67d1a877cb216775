import { AppError } from '../errors';
import { dateInterval } from './search-dates';
import { decodeCursor, encodeCursor, parseSearch, splitValues, type SearchRequest } from './search-params';

const parse = (query: string): SearchRequest => parseSearch(new URLSearchParams(query));

/** The 400 message a query gets; fails if it is accepted. */
function refusal(query: string): string {
  try {
    parse(query);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect({ status: (err as AppError).status, code: (err as AppError).code }).toEqual({ status: 400, code: 'invalid_search' });
    return (err as AppError).message;
  }
  throw new Error(`accepted: ${query}`);
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('with no parameters', () => {
  test('the search has no conditions, pages of 50 and no cursor', () => {
    expect(parse('')).toEqual({ conditions: [], count: 50 });
  });
});

describe('patient', () => {
  test.each([
    ['patient=P-1001', [{ id: 'P-1001' }]],
    ['patient=Patient/P-1001', [{ id: 'P-1001' }]],
    ['patient=%20p-1001%20', [{ id: ' p-1001 ' }]],
    ['patient=P-1,P-2', [{ id: 'P-1' }, { id: 'P-2' }]],
    ['patient=P\\,1', [{ id: 'P,1' }]],
    ['patient:identifier=urn:sems-dispense:site:s:patient|P-1', [{ identifier: { system: 'urn:sems-dispense:site:s:patient', value: 'P-1' } }]],
    ['patient:identifier=P-1', [{ identifier: { value: 'P-1' } }]],
    ['patient:identifier=|P-1', [{ identifier: { system: '', value: 'P-1' } }]],
    ['patient:identifier=s|a\\|b\\,c', [{ identifier: { system: 's', value: 'a|b,c' } }]],
  ])('%s matches %p', (query, anyOf) => {
    expect(parse(query).conditions).toEqual([{ on: 'patient', anyOf }]);
  });

  test('a repeated patient is two conditions, both to be met', () => {
    expect(parse('patient=a&patient=b').conditions).toEqual([
      { on: 'patient', anyOf: [{ id: 'a' }] },
      { on: 'patient', anyOf: [{ id: 'b' }] },
    ]);
  });

  test.each([
    'patient=',
    'patient=Patient/',
    'patient=%20%20',
    'patient:identifier=s|',
    'patient:missing=true',
    'patient:Patient=P-1',
    'patient.name=x',
  ])('%s is refused', (query) => {
    refusal(query);
  });
});

describe('dates', () => {
  const day = { start: Date.parse('2026-11-25T00:00:00.000Z'), end: Date.parse('2026-11-26T00:00:00.000Z') };

  test.each([
    ['2026', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2026-02', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['2026-11-25T09:30Z', '2026-11-25T09:30:00.000Z', '2026-11-25T09:31:00.000Z'],
    ['2026-11-25T09:30:15Z', '2026-11-25T09:30:15.000Z', '2026-11-25T09:30:16.000Z'],
    ['2026-11-25T09:30:15.2Z', '2026-11-25T09:30:15.200Z', '2026-11-25T09:30:15.300Z'],
    ['2026-11-25T09:30:15.250Z', '2026-11-25T09:30:15.250Z', '2026-11-25T09:30:15.251Z'],
    ['2026-11-25T11:30:15+02:00', '2026-11-25T09:30:15.000Z', '2026-11-25T09:30:16.000Z'],
    ['2026-11-25T11:30:15 02:00', '2026-11-25T09:30:15.000Z', '2026-11-25T09:30:16.000Z'],
    ['2026-11-25T04:30:15-05:00', '2026-11-25T09:30:15.000Z', '2026-11-25T09:30:16.000Z'],
    ['0099-01-01', '0099-01-01T00:00:00.000Z', '0099-01-02T00:00:00.000Z'],
  ])('%s is the interval [%s, %s)', (text, start, end) => {
    const i = dateInterval(text);
    expect(i && { start: iso(i.start), end: iso(i.end) }).toEqual({ start, end });
  });

  test.each([
    ['eq', { from: day.start, to: day.end }],
    ['', { from: day.start, to: day.end }],
    ['ge', { from: day.start }],
    ['gt', { from: day.end }],
    ['le', { to: day.end }],
    ['lt', { to: day.start }],
  ])('whenhandedover=%s2026-11-25 matches %p', (prefix, range) => {
    const expected = Object.fromEntries(Object.entries(range).map(([k, v]) => [k, iso(v)]));
    expect(parse(`whenhandedover=${prefix}2026-11-25`).conditions).toEqual([{ on: 'whenhandedover', anyOf: [expected] }]);
  });

  test('a range is the parameter twice, each a condition to be met', () => {
    expect(parse('whenhandedover=ge2026-11-01&whenhandedover=lt2026-12-01').conditions).toEqual([
      { on: 'whenhandedover', anyOf: [{ from: '2026-11-01T00:00:00.000Z' }] },
      { on: 'whenhandedover', anyOf: [{ to: '2026-12-01T00:00:00.000Z' }] },
    ]);
  });

  test('_lastUpdated takes the same values, on its own column', () => {
    expect(parse('_lastUpdated=gt2026-11-25T09:30:00.000Z').conditions).toEqual([
      { on: '_lastUpdated', anyOf: [{ from: '2026-11-25T09:30:00.001Z' }] },
    ]);
  });

  test('bounds beyond the years 1-9999 are PostgreSQL’s infinities', () => {
    expect(parse('whenhandedover=le9999&whenhandedover=gt9999').conditions).toEqual([
      { on: 'whenhandedover', anyOf: [{ to: 'infinity' }] },
      { on: 'whenhandedover', anyOf: [{ from: 'infinity' }] },
    ]);
    expect(parse('whenhandedover=lt0001-01-01T00:00:00%2B14:00').conditions).toEqual([{ on: 'whenhandedover', anyOf: [{ to: '-infinity' }] }]);
  });

  test.each([
    'whenhandedover=',
    'whenhandedover=yesterday',
    'whenhandedover=2026-13-01',
    'whenhandedover=2026-02-29',
    'whenhandedover=2026-04-31',
    'whenhandedover=2026-11-25T09:30:00',
    'whenhandedover=2026-11-25T24:00:00Z',
    'whenhandedover=2026-11-25T09:60:00Z',
    'whenhandedover=2026-11-25T09:30:00.1234Z',
    'whenhandedover=2026-11-25T09:30:00%2B15:00',
    'whenhandedover=0000-01-01',
    'whenhandedover=26-11-25',
    'whenhandedover=ne2026-11-25',
    'whenhandedover=sa2026-11-25',
    'whenhandedover=ap2026-11-25',
    'whenhandedover:missing=true',
    '_lastUpdated=2026-11-25T09:30',
  ])('%s is refused', (query) => {
    refusal(query);
  });

  test('the refusal of an unsupported prefix names it', () => {
    expect(refusal('whenhandedover=ne2026-11-25')).toMatch(/"ne" is not supported/);
  });
});

describe('status', () => {
  test.each([
    ['completed', ['dispensed']],
    ['entered-in-error', ['voided']],
    ['completed,entered-in-error', ['dispensed', 'voided']],
    ['http://hl7.org/fhir/CodeSystem/medicationdispense-status|completed', ['dispensed']],
    ['in-progress', []],
    ['urn:other|completed', []],
  ])('status=%s matches the records %p', (value, anyOf) => {
    expect(parse(`status=${encodeURIComponent(value)}`).conditions).toEqual([{ on: 'status', anyOf }]);
  });

  test.each(['status=dispensed', 'status=COMPLETED', 'status=', 'status:not=completed', 'status=constructor', 'status=toString'])(
    '%s is refused',
    (query) => {
      refusal(query);
    },
  );
});

describe('_count and the cursor', () => {
  test.each([
    ['_count=1', 1],
    ['_count=1000', 1000],
    ['_count=007', 7],
  ])('%s pages by %d', (query, count) => {
    expect(parse(query).count).toBe(count);
  });

  test.each(['_count=0', '_count=1001', '_count=-1', '_count=1.5', '_count=abc', '_count=', '_count=1&_count=2', '_count:x=1'])(
    '%s is refused',
    (query) => {
      refusal(query);
    },
  );

  test('a cursor this server made reads back as the position it holds', () => {
    const at = { at: '2026-11-25T09:30:00.123456Z', id: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f' };
    expect(decodeCursor(encodeCursor(at))).toEqual(at);
    expect(parse(`_cursor=${encodeCursor(at)}`).after).toEqual(at);
  });

  test.each([
    'garbage!',
    Buffer.from('2026-11-25T09:30:00.123456Z|not-a-uuid').toString('base64url'),
    Buffer.from('2026-02-30T09:30:00.123456Z|6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f').toString('base64url'),
    Buffer.from('0000-01-01T00:00:00.000000Z|6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f').toString('base64url'),
    Buffer.from("2026-11-25T09:30:00.123456Z|6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f' OR 1=1").toString('base64url'),
  ])('a cursor %p is refused', (cursor) => {
    expect(refusal(`_cursor=${cursor}`)).toMatch(/not a page position/);
  });
});

describe('strictness', () => {
  test.each([
    '_sort=-whenhandedover',
    'code=AMOX500',
    'Patient=P-1',
    '_summary=count',
    '_include=MedicationDispense:patient',
    'subject=P-1',
    'toString=x',
    '__proto__=x',
  ])('the unsupported parameter in %s is refused, never ignored', (query) => {
    expect(refusal(query)).toMatch(/not supported/);
  });

  test('_format is left to the route, which answers it', () => {
    expect(parse('_format=json')).toEqual({ conditions: [], count: 50 });
  });
});

test('a value is split on its unescaped commas and unescaped; an escaped backslash escapes nothing after it', () => {
  expect(splitValues('a,b\\,c,d\\\\,e')).toEqual(['a', 'b,c', 'd\\', 'e']);
});
