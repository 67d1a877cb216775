/**
 * Passwords: the rules a new password must meet (NIST SP 800-63B) and hashing with node's scrypt,
 * stored as `scrypt$N$r$p$salt$hash` so parameters can change later. Every path that sets a
 * password (a new user, a reset, a change, the CLI) checks it here, and every password is
 * normalised to Unicode NFKC before it is hashed or compared (docs/decisions/password-rules.md).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from './errors';

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

const KEY_LENGTH = 64;
const PARAMS = { N: 16384, r: 8, p: 1 };

/**
 * The form a password is hashed and compared in: NFKC, so the same password typed on another
 * keyboard or input method (a composed "é" or "e" and a combining accent, a full-width digit)
 * is the same password. Nothing else is changed: no trimming, no case folding, no truncation.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// With the u flag a surrogate pair is one code point: only an unpaired half matches.
const LONE_SURROGATE = /\p{Cs}/u;

let common: Set<string> | undefined;

/** The ~49,000 common passwords of @zxcvbn-ts/language-common, lower-cased, read once on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.normalize('NFKC').toLowerCase()));
  return common;
}

/**
 * Why `password` may not be set for `username`, in words, or null when it may. The rules: 8 to
 * 256 characters (Unicode code points of the normalised form), valid Unicode, not on the
 * common-password list and not the username (both ignoring case). No composition rules.
 */
export function passwordProblem(password: string, username: string): string | null {
  if (LONE_SURROGATE.test(password)) return 'The password holds a broken character (an unpaired surrogate); type it again.';
  const normal = normalizePassword(password);
  const length = [...normal].length;
  if (length < PASSWORD_MIN_CHARS) return `The password must be at least ${PASSWORD_MIN_CHARS} characters long; this one has ${length}.`;
  if (length > PASSWORD_MAX_CHARS) return `The password may be at most ${PASSWORD_MAX_CHARS} characters long; this one has ${length}.`;
  const lower = normal.toLowerCase();
  if (lower === username.normalize('NFKC').toLowerCase()) return 'The password must not be the username.';
  if (commonPasswords().has(lower)) return 'This password is on a list of commonly used passwords; choose another.';
  return null;
}

/** Throws 400 `weak_password` with the reason when `password` may not be set for `username`. */
export function checkNewPassword(password: string, username: string): void {
  const problem = passwordProblem(password, username);
  if (problem) throw new AppError(400, 'weak_password', problem);
}

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  const normal = normalizePassword(password);
  return new Promise((resolve, reject) => scryptCb(normal, salt, KEY_LENGTH, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password: login for an unknown user costs as much as for a known one. */
export const DUMMY_HASH_PROMISE = hashPassword(randomBytes(16).toString('hex'));
