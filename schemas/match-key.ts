/**
 * How the counter matches patient ids and medication codes: ignoring case and surrounding space,
 * so `p-1001 ` finds P-1001, on the device and on the server alike (the patient history and the
 * duplicate check). One rule in two languages: `matchKey` here for JavaScript, `matchKeySql` for
 * PostgreSQL. Why these two functions and where they could disagree: docs/decisions/match-keys.md.
 */

/**
 * The characters String.prototype.trim removes at either end (ECMAScript's WhiteSpace and
 * LineTerminator): tab, line feed, vertical tab, form feed, carriage return, space, no-break
 * space, Ogham space, the spaces U+2000-U+200A, line and paragraph separators, narrow no-break
 * space, medium mathematical space, ideographic space, byte order mark. match-key.test.ts checks
 * this list against trim() over every code point.
 */
export const TRIMMED_SPACE =
  '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/**
 * The key two texts are matched by: surrounding space removed, then lower case by Unicode's
 * default case mapping. Not toLocaleLowerCase: that follows the device's language (in Turkish,
 * `I` becomes dotless `ı`), so two counters set to different languages would disagree.
 */
export function matchKey(text: string): string {
  return text.trim().toLowerCase();
}

/** TRIMMED_SPACE as a PostgreSQL string constant, each character escaped (`U&'\0009…'`). */
const TRIMMED_SPACE_SQL = `U&'${[...TRIMMED_SPACE].map((c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join('')}'`;

/**
 * matchKey in SQL, of the SQL expression `expr`: btrim of the same characters, and lower() under
 * ICU's root collation, which maps case as JavaScript does whatever the database's own locale
 * (lower() under a `C` locale changes A-Z only). The expression index of a patient's records
 * (migration 20261207000010) is built on exactly this expression of `patient_id`.
 */
export function matchKeySql(expr: string): string {
  return `lower(btrim(${expr}, ${TRIMMED_SPACE_SQL}) COLLATE "und-x-icu")`;
}
