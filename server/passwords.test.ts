import { checkNewPassword, DUMMY_HASH_PROMISE, hashPassword, normalizePassword, passwordProblem, verifyPassword } from './passwords';

describe('password hashing', () => {
  test('a hash verifies the password it was made from', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
  });

  test('a hash refuses any other password, including one differing only in case or a trailing space', async () => {
    const hash = await hashPassword('correct horse battery');
    for (const wrong of ['Correct horse battery', 'correct horse battery ', '', 'x']) {
      expect(await verifyPassword(wrong, hash)).toBe(false);
    }
  });

  test('the hash is stored as scrypt$N$r$p$salt$hash and never contains the password', async () => {
    const hash = await hashPassword('s3cret-pass');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain('s3cret-pass');
  });

  test('the same password hashed twice gives different hashes (a fresh salt each time)', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  test('a hash with other stored parameters still verifies: parameters can change later', async () => {
    const [, , , , salt] = (await hashPassword('pw')).split('$');
    const { scryptSync } = await import('node:crypto');
    const key = scryptSync('pw', Buffer.from(salt, 'base64'), 64, { N: 1024, r: 8, p: 1 });
    expect(await verifyPassword('pw', `scrypt$1024$8$1$${salt}$${key.toString('base64')}`)).toBe(true);
  });

  test.each(['', 'plain-text', 'bcrypt$10$abc$def', 'scrypt$16384$8$1$$', 'scrypt$16384$8$1$c2FsdA=='])(
    'a stored value %p that is not a scrypt hash verifies nothing',
    async (stored) => {
      expect(await verifyPassword('plain-text', stored)).toBe(false);
    },
  );

  test('the dummy hash used for unknown users is a real hash that no guess matches', async () => {
    const dummy = await DUMMY_HASH_PROMISE;
    expect(dummy).toMatch(/^scrypt\$/);
    expect(await verifyPassword('', dummy)).toBe(false);
    expect(await verifyPassword('password123', dummy)).toBe(false);
  });
});

describe('the password rules', () => {
  const ok = (password: string, username = 'alice') => expect(passwordProblem(password, username)).toBeNull();
  const refused = (password: string, reason: RegExp, username = 'alice') => expect(passwordProblem(password, username)).toMatch(reason);

  test('8 characters are enough and 7 are not, counted in code points (an emoji is one, not two)', () => {
    ok('gx7-kq2m');
    refused('gx7-kq2', /at least 8 characters.*has 7/);
    ok('🦊🐢🦉🐙🦀🐝🦋🐌');
    refused('🦊🐢🦉🐙🦀🐝🦋', /at least 8 characters.*has 7/);
  });

  test('256 characters are allowed and 257 refused with the reason; nothing is cut', async () => {
    const long = 'the-quick-brown-fox-'.repeat(13).slice(0, 255);
    ok(`${long}x`);
    refused(`${long}xy`, /at most 256 characters.*has 257/);
    const hash = await hashPassword(`${long}x`);
    expect(await verifyPassword(`${long}x`, hash)).toBe(true);
    expect(await verifyPassword(`${long}y`, hash)).toBe(false); // the last character counts
  });

  test('any Unicode is allowed, with no composition rules: spaces, letters only, digits only, scripts other than Latin', () => {
    for (const p of ['correct horse battery staple', 'kangaroopicnic', '73829164', 'Zoë Ångström Łódź', '張偉的藥房密碼很長', 'محمد صيدلية ٢٠٢٦'])
      ok(p);
  });

  test('a password on the common list is refused whatever its case', () => {
    for (const p of ['password123', 'PASSWORD123', 'Password123', 'iloveyou', '12345678', 'qwertyuiop']) refused(p, /commonly used/);
  });

  test('the username as password is refused, ignoring case', () => {
    refused('alice-smith', /not be the username/, 'Alice-Smith');
    refused('ALICE-SMITH', /not be the username/, 'alice-smith');
    ok('alice-smith-2', 'alice-smith');
  });

  test('a password with an unpaired surrogate (not valid Unicode) is refused rather than hashed as another', () => {
    refused('long-enough\ud800', /broken character/);
    refused('\udc00long-enough', /broken character/);
  });

  test('passwords are compared in NFKC: a composed and a decomposed accent, or full-width digits, are the same password', async () => {
    const composed = 'caf\u00e9-au-lait-2026';
    const decomposed = 'cafe\u0301-au-lait-2026';
    expect(normalizePassword(decomposed)).toBe(composed);
    const hash = await hashPassword(composed);
    expect(await verifyPassword(decomposed, hash)).toBe(true);
    expect(await verifyPassword('cafe-au-lait-2026', hash)).toBe(false);
    expect(await verifyPassword('pin-２０２６-ok', await hashPassword('pin-2026-ok'))).toBe(true);
  });

  test('the length counts the normalised form, which is what is hashed', () => {
    // Eight decomposed letters (16 code points as typed) are eight characters.
    ok('e\u0301'.repeat(4) + 'abcd');
    refused('e\u0301'.repeat(7), /at least 8 characters.*has 7/);
  });

  test('checkNewPassword throws 400 weak_password with the reason in words', () => {
    expect(() => checkNewPassword('password123', 'alice')).toThrow(
      expect.objectContaining({ status: 400, code: 'weak_password', message: expect.stringMatching(/commonly used/) }),
    );
    expect(() => checkNewPassword('a-long-enough-one', 'alice')).not.toThrow();
  });
});
