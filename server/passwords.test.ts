import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords';

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
