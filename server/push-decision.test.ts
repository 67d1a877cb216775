import type { Dispense } from '../schemas/dispense';
import { makeDispense } from '../test/support/records';
import { clockAhead, decide, standsWithoutLock, type Candidate, type Decision, type Rules } from './push-decision';

const stored = makeDispense({ siteId: 'site-a', dispensedBy: 'alice', notes: 'as stored' });
// The server's clock an hour after the stored record's instants: 10 minutes more is the latest allowed.
const serverNow = Date.parse(stored.updatedAt) + 60 * 60_000;
const rules: Rules = { siteId: 'site-a', dispensers: new Set(['alice', 'bob']), serverNowMs: serverNow, clockAheadLimitMs: 10 * 60_000 };
const inHours = (h: number) => new Date(serverNow + h * 60 * 60_000).toISOString();
const later = new Date(Date.parse(stored.updatedAt) + 1000).toISOString();
const edited: Dispense = { ...stored, quantity: 28, notes: 'edited', updatedAt: later };
const voided: Dispense = { ...stored, status: 'voided', voidReason: 'Wrong patient', updatedAt: later };
const theirs = { ...stored, siteId: 'site-b', dispensedBy: 'zed' };
const legacy: Dispense = { ...stored, dispensedAt: '1990-01-01T10:00:00.000Z', quantity: 0.0001, unit: 'tablet', expiryDate: undefined };

const row = (doc: Dispense, assumed: Dispense | null = null): Candidate => ({ doc, assumed });
const rejected = (code: string) => ({ kind: 'rejected', rejection: expect.objectContaining({ externalId: stored.externalId, code }) });
const update = (action: 'update' | 'void', after: Dispense, changed: string[], before = stored) => ({
  kind: 'update',
  update: { externalId: stored.externalId, action, changed, before, after },
});

const cases: [situation: string, candidate: Candidate, stored: Dispense | undefined, expected: unknown][] = [
  ['a new record by the signed-in user is inserted', row(stored), undefined, { kind: 'insert' }],
  ['a new record naming a colleague of the site is inserted', row({ ...stored, dispensedBy: 'bob' }), undefined, { kind: 'insert' }],
  [
    'a new record naming no user of the site is rejected as unknown_dispenser',
    row({ ...stored, dispensedBy: 'zed' }),
    undefined,
    rejected('unknown_dispenser'),
  ],
  ['a new record of another site is rejected as wrong_site', row(theirs), undefined, rejected('wrong_site')],
  [
    'a new record dispensed a day ahead of the server clock is rejected as clock_ahead',
    row({ ...stored, dispensedAt: inHours(24), updatedAt: inHours(24) }),
    undefined,
    rejected('clock_ahead'),
  ],
  ['a new record 9 minutes ahead of the server clock is inserted', row({ ...stored, updatedAt: inHours(0.15) }), undefined, { kind: 'insert' }],
  [
    'an edit stamped 11 minutes ahead of the server clock is rejected as clock_ahead',
    row({ ...edited, updatedAt: inHours(11 / 60) }, stored),
    stored,
    rejected('clock_ahead'),
  ],
  ["a record stored for another site is rejected as wrong_site, even relabelled as this site's", row(stored, theirs), theirs, rejected('wrong_site')],
  [
    'a record of another site equal to the stored one is rejected as wrong_site, not passed as unchanged',
    row(theirs, theirs),
    theirs,
    rejected('wrong_site'),
  ],
  ['a record equal to the stored one is unchanged', row(stored, stored), stored, { kind: 'unchanged' }],
  ['a record equal to the stored one is unchanged whatever it assumed (a re-send as new)', row(stored), stored, { kind: 'unchanged' }],
  [
    'a record equal to the stored one but for an optional field absent instead of null is unchanged',
    row(stored, stored),
    { ...stored, prescriber: null } as unknown as Dispense,
    { kind: 'unchanged' },
  ],
  [
    'an edit of the stored version is an update with its changed fields',
    row(edited, stored),
    stored,
    update('update', edited, ['quantity', 'notes', 'updatedAt']),
  ],
  ['a void of the stored version is a void', row(voided, stored), stored, update('void', voided, ['status', 'voidReason', 'updatedAt'])],
  [
    'a void of a record stored before the entry rules (dated 1990, 0.0001 tablet) is a void: what it does not change is not judged',
    row({ ...legacy, status: 'voided', voidReason: 'Typed in error', updatedAt: later }, legacy),
    legacy,
    update('void', { ...legacy, status: 'voided', voidReason: 'Typed in error', updatedAt: later }, ['status', 'voidReason', 'updatedAt'], legacy),
  ],
  [
    'an edit of a voided record stamped later stays an update',
    row({ ...voided, notes: 'why', updatedAt: inHours(-0.5) }, voided),
    voided,
    update('update', { ...voided, notes: 'why', updatedAt: inHours(-0.5) }, ['notes', 'updatedAt'], voided),
  ],
  // A record only moves forward by the conflict rule, whatever the row says it assumed.
  [
    'a row assuming the stored version but stamped before it (an older version sent again) is a conflict',
    row({ ...stored, notes: 'older', updatedAt: new Date(Date.parse(stored.updatedAt) - 1).toISOString() }, stored),
    stored,
    { kind: 'conflict', server: stored },
  ],
  [
    'a row assuming the stored version with its very updatedAt but other fields is a conflict',
    row({ ...stored, notes: 'same instant' }, stored),
    stored,
    { kind: 'conflict', server: stored },
  ],
  [
    'a row undoing the stored void, stamped later, assuming the void, is a conflict: a void is final',
    row({ ...edited, updatedAt: inHours(-0.5) }, voided),
    voided,
    { kind: 'conflict', server: voided },
  ],
  ['a changed record pushed as new is a conflict with the stored one', row(edited), stored, { kind: 'conflict', server: stored }],
  [
    'an edit of an older version is a conflict with the stored one',
    row({ ...edited, notes: 'mine' }, { ...stored, notes: 'older' }),
    edited,
    { kind: 'conflict', server: edited },
  ],
  [
    'an edit assuming a version with the stored updatedAt but another field (a tie of two devices) is a conflict',
    row({ ...stored, notes: 'mine', updatedAt: later }, { ...stored, quantity: 99 }),
    stored,
    { kind: 'conflict', server: stored },
  ],
  [
    'an edit assuming the stored version but for its void (compared field by field) is a conflict, so a void is not undone',
    row({ ...edited }, { ...voided, status: 'dispensed', voidReason: undefined } as Dispense),
    voided,
    { kind: 'conflict', server: voided },
  ],
  [
    'an edit of the stored version that changes dispensedBy is rejected as immutable_field',
    row({ ...edited, dispensedBy: 'bob' }, stored),
    stored,
    rejected('immutable_field'),
  ],
  [
    'an edit of an older version that changes dispensedBy is a conflict first',
    row({ ...edited, dispensedBy: 'bob' }),
    stored,
    { kind: 'conflict', server: stored },
  ],
];

describe('decide: what one pushed row means', () => {
  test.each(cases)('%s', (_situation, candidate, storedRecord, expected) => {
    expect(decide(candidate, storedRecord, rules)).toEqual(expected);
  });
});

describe('clockAhead: the instant at the limit is the last one accepted', () => {
  const limit = new Date(serverNow + rules.clockAheadLimitMs).toISOString();
  const past = new Date(serverNow + rules.clockAheadLimitMs + 1).toISOString();
  test.each([
    ['an updatedAt exactly 10 minutes ahead is accepted', { ...stored, updatedAt: limit }, null],
    ['an updatedAt 10 minutes and 1 ms ahead is refused: the clock is fast', { ...stored, updatedAt: past }, 'clock is 10 minutes ahead'],
    ['both instants ahead are the clock, said once', { ...stored, dispensedAt: past, updatedAt: past }, 'clock is 10 minutes ahead'],
  ])('%s', (_situation, doc, refused) => {
    const r = clockAhead(doc, undefined, rules);
    if (refused === null) expect(r).toBeNull();
    else expect(r).toMatchObject({ code: 'clock_ahead', message: expect.stringContaining(refused) });
  });

  test("a dispense time typed ahead, saved by a clock in time, is no clock fault: dispensed_in_future, in the form's words", () => {
    const r = clockAhead({ ...stored, dispensedAt: past }, undefined, rules);
    expect(r).toMatchObject({ code: 'dispensed_in_future', message: expect.stringMatching(/^Dispensed at is 10 minutes ahead/) });
    expect(r?.message).not.toMatch(/clock is fast|device's clock/);
  });

  test('a limit past year 9999 still compares the instants in time', () => {
    const far = { serverNowMs: serverNow, clockAheadLimitMs: Date.UTC(10000, 0, 1) - serverNow };
    expect(clockAhead({ ...stored, updatedAt: '9999-12-31T23:59:59.999Z' }, undefined, far)).toBeNull();
  });
});

describe('standsWithoutLock: which decisions a read without locks settles', () => {
  const decision = (candidate: Candidate, storedRecord: Dispense | undefined): Decision => decide(candidate, storedRecord, rules);
  test.each([
    ['unchanged: an equal row writes nothing whatever comes next', decision(row(stored), stored), true],
    ['wrong_site: a record never changes site', decision(row(stored, theirs), theirs), true],
    ['insert: another request may insert it first', decision(row(stored), undefined), false],
    ['unknown_dispenser: another request may insert it first', decision(row({ ...stored, dispensedBy: 'zed' }), undefined), false],
    ['conflict: the record may change before the lock', decision(row(edited), stored), false],
    ['update: the record may change before the lock', decision(row(edited, stored), stored), false],
    ['immutable_field: a conflict may come first once locked', decision(row({ ...edited, dispensedBy: 'bob' }, stored), stored), false],
  ])('%s', (_situation, d, stands) => {
    expect(standsWithoutLock(d)).toBe(stands);
  });
});

describe('decide: records of a disabled user', () => {
  // bob was disabled a second after the stored record's instant.
  const disabledAt = new Date(Date.parse(stored.updatedAt) + 1000).toISOString();
  const withDisabled: Rules = { ...rules, disabledSince: new Map([['bob', disabledAt]]) };
  const byBob = (updatedAt: string): Dispense => ({ ...stored, dispensedBy: 'bob', updatedAt });

  test('a new record they made before being disabled is still inserted when a device sends it later', () => {
    expect(decide(row(byBob(stored.updatedAt)), undefined, withDisabled)).toEqual({ kind: 'insert' });
    expect(decide(row(byBob(disabledAt)), undefined, withDisabled)).toEqual({ kind: 'insert' });
  });

  test('a new record stamped after the disable instant is rejected as user_disabled, in words', () => {
    const after = new Date(Date.parse(disabledAt) + 1).toISOString();
    const d = decide(row(byBob(after)), undefined, withDisabled) as Extract<Decision, { kind: 'rejected' }>;
    expect(d).toEqual(rejected('user_disabled'));
    expect(d.rejection.message).toMatch(/bob's account was disabled/);
  });

  test("a colleague's later edit of a record they made stays an edit (it can be corrected or voided)", () => {
    const theirsStored = byBob(stored.updatedAt);
    const voidedLater: Dispense = { ...theirsStored, status: 'voided', voidReason: 'Wrong patient', updatedAt: inHours(0) };
    expect(decide(row(voidedLater, theirsStored), theirsStored, withDisabled)).toMatchObject({ kind: 'update', update: { action: 'void' } });
  });
});
