/**
 * The password verifier a device keeps for offline sign-in: PBKDF2-SHA-256 of the password with a
 * random salt, made with WebCrypto (never the password itself, never sent anywhere). WebCrypto's
 * `crypto.subtle` exists only in a secure context (https, localhost): on plain http there is no
 * verifier, and so no offline sign-in.
 */

/** OWASP's figure for PBKDF2-HMAC-SHA256 (2023): about 0.3-0.6 s per check in Chromium on this machine's kind. */
export const PBKDF2_ITERATIONS = 600_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;

export interface Verifier {
  /** base64 */
  salt: string;
  /** base64 of the derived bits */
  hash: string;
  iterations: number;
}

function subtle(): SubtleCrypto | null {
  return (globalThis.crypto?.subtle as SubtleCrypto | undefined) ?? null;
}

/** Whether this page can make and check verifiers (a secure context with WebCrypto). */
export function canVerifyOffline(): boolean {
  return subtle() !== null;
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const s = subtle();
  if (!s) throw new Error('WebCrypto is unavailable (not a secure context)');
  // NFKC, as the server compares passwords (docs/decisions/password-rules.md): typed either way, the same password.
  const key = await s.importKey('raw', new TextEncoder().encode(password.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await s.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function makeVerifier(password: string, iterations = PBKDF2_ITERATIONS): Promise<Verifier> {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return { salt: toBase64(salt), hash: toBase64(await derive(password, salt, iterations)), iterations };
}

/** Whether `password` is the one the verifier was made from; compared without an early exit. */
export async function matchesVerifier(v: Verifier, password: string): Promise<boolean> {
  const expected = fromBase64(v.hash);
  const actual = await derive(password, fromBase64(v.salt), v.iterations);
  if (actual.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= actual[i] ^ expected[i];
  return diff === 0;
}
