import { makeVerifier, matchesVerifier } from './verifier';

describe('offline sign-in verifier', () => {
  test('the right password matches; a wrong one, or the right one against another salt, does not', async () => {
    const v = await makeVerifier('counter-pass-1', 1000);
    expect(await matchesVerifier(v, 'counter-pass-1')).toBe(true);
    expect(await matchesVerifier(v, 'counter-pass-2')).toBe(false);
    const other = await makeVerifier('counter-pass-1', 1000);
    expect(other.salt).not.toBe(v.salt);
    expect(await matchesVerifier({ ...v, salt: other.salt }, 'counter-pass-1')).toBe(false);
  });

  test('the verifier holds no trace of the password in clear', async () => {
    const v = await makeVerifier('counter-pass-1', 1000);
    expect(JSON.stringify(v)).not.toContain('counter-pass-1');
    expect(v).toEqual({ salt: expect.any(String), hash: expect.any(String), iterations: 1000 });
  });
});
