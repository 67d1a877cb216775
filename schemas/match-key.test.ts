import { matchKey, matchKeySql, TRIMMED_SPACE } from './match-key';

function* everyCodePoint(): Generator<string> {
  for (let cp = 1; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) yield String.fromCodePoint(cp);
}

test('TRIMMED_SPACE holds exactly the characters trim() removes', () => {
  const trimmed = [...everyCodePoint()].filter((c) => c.trim() === '');
  expect(trimmed.join('')).toBe(TRIMMED_SPACE);
});

test.each([
  ['p-1001 ', 'P-1001'],
  ['\u00a0AMOX500\t', 'amox500'],
  ['\u3000Straße\ufeff', 'STRAßE'],
  ['ΟΔΟΣ', '\u03bf\u03b4\u03bf\u03c2'], // a final sigma, as in the word written in lower case
])('%p and %p have one key', (a, b) => {
  expect(matchKey(a)).toBe(matchKey(b));
});

test.each([
  ['P-1001', 'P-1002'],
  ['P 1001', 'P1001'], // space inside an id is part of it
  ['STRASSE', 'straße'], // lower case, not full case folding
])('%p and %p keep apart', (a, b) => {
  expect(matchKey(a)).not.toBe(matchKey(b));
});

test("the key does not follow the device's language: a Turkish I is still i", () => {
  expect(matchKey('PI-1')).toBe('pi-1');
  expect('PI-1'.toLocaleLowerCase('tr')).not.toBe(matchKey('PI-1'));
});

test('the SQL form trims the same characters, each escaped, and lowers under ICU root', () => {
  const sql = matchKeySql('patient_id');
  expect(sql).toMatch(/^lower\(btrim\(patient_id, U&'(\\[0-9A-F]{4}){25}'\) COLLATE "und-x-icu"\)$/);
  const escaped = [...sql.matchAll(/\\([0-9A-F]{4})/g)].map((m) => String.fromCharCode(parseInt(m[1], 16))).join('');
  expect(escaped).toBe(TRIMMED_SPACE);
});
