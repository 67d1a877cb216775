/**
 * fast-check generators of hostile input for the push endpoint: text that looks like SQL or
 * script, unicode and broken unicode, huge strings, values of the wrong type, prototype-
 * pollution keys, deep nesting, and mutations of otherwise valid records.
 */
import fc from 'fast-check';
import { DISPENSE_FIELDS, type Dispense } from '../../../schemas/dispense';

export const NASTY_TEXT = [
  "'; DROP TABLE dispenses; --",
  "' OR '1'='1",
  '1); DELETE FROM audit_logs; --',
  "Robert\"); UPDATE dispenses SET site_id = 'site-b'; --",
  '$1::text',
  '\\x00\\\\',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(document.cookie)>',
  'javascript:alert(1)',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '../../../../etc/passwd',
  '%00%0d%0aSet-Cookie: a=b',
  '\r\nX-Injected: 1',
  '\u202Egnp.exe',
  '\u200B',
  '\uFEFF',
  ' ',
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00',
  '\udbff\udfff',
  '😀'.repeat(64),
  '👩‍⚕️💊',
  'Zoë Ångström Łódź 張偉 محمد',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  '0000-01-01T00:00:00.000Z',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_TEXT) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), loneSurrogate, fc.string({ maxLength: 10 })).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 1100 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 400_000 }).map((n) => 'y'.repeat(n)) },
);

/** Date-like text: valid, almost valid, and out of PostgreSQL's range. */
export const hostileDate: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00.000Z',
    '0000-02-29T12:00:00.000Z',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '2026-02-29T00:00:00.000Z',
    '2026-11-25T24:00:00.000Z',
    '2026-11-25T09:30:00Z',
    '2026-11-25T09:30:00.000+01:00',
    '2026-11-25T09:30:00.000000Z',
    '+010000-01-01T00:00:00.000Z',
    '-000001-01-01T00:00:00.000Z',
    '2026-11-25',
    '0000-01-01',
    '0000-02-29',
    '1970-01-01',
    'infinity',
    'epoch',
    'now',
  ),
  fc.date({ min: new Date(Date.UTC(-2000, 0, 1)), max: new Date(Date.UTC(12000, 0, 1)), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 5e-324, 1e-300, 0.1, 100000, 100000.00000001, 1e308, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON, including deep and wide shapes. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).map((depth) => nest(depth)) },
  { weight: 1, arbitrary: hostileString },
);

export function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** Keys that try to reach an object's prototype or a server-owned column. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'received_at',
  'receivedAt',
  'server_updated_at',
  'serverUpdatedAt',
  'id',
  'site_id',
  'external_id',
  '_deleted',
  '_rev',
  '_meta',
];

/** Sets an own, enumerable property even for "__proto__" (so JSON.stringify sends it as a key). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export const pollutionValue = fc.constantFrom<unknown>(
  { polluted: 'yes' },
  { prototype: { polluted: 'yes' } },
  { isAdmin: true, siteId: 'site-b' },
  null,
  'polluted',
);

export type Mutation =
  | { kind: 'set'; field: string; value: unknown }
  | { kind: 'delete'; field: string }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'upperId' };

const field = fc.constantFrom<string>(...DISPENSE_FIELDS);
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), field, value: hostileString as fc.Arbitrary<unknown> }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), field, value: anyJson }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      field: fc.constantFrom('dispensedAt', 'updatedAt', 'expiryDate'),
      value: hostileDate as fc.Arbitrary<unknown>,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('set' as const), field: fc.constant('quantity'), value: hostileNumber as fc.Arbitrary<unknown> }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      field: fc.constantFrom('status', 'unit', 'voidReason'),
      value: fc.constantFrom<unknown>('voided', 'dispensed', 'deleted', 'tablet', 'TABLET', 'Broken seal'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), field }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('extra' as const),
      key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 20 })),
      value: fc.oneof(pollutionValue, anyJson),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'upperId' as const }) },
);

export function applyMutations(doc: Dispense, mutations: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const m of mutations) {
    if (m.kind === 'set') out[m.field] = m.value;
    else if (m.kind === 'delete') delete out[m.field];
    else if (m.kind === 'extra') setOwn(out, m.key, m.value);
    else if (typeof out.externalId === 'string') out.externalId = out.externalId.toUpperCase();
  }
  return out;
}
