import { parseEnv } from './env';

describe('parsing the environment', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  test('an empty environment gives the documented defaults: embedded database, port 3000, 24 h tokens', () => {
    const config = parseEnv({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 3000,
      SEMS_DATA_DIR: './data',
      TOKEN_TTL_SECONDS: 86400,
      BODY_LIMIT: '5mb',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  test('outside production without JWT_SECRET, a development secret is used and a warning names JWT_SECRET', () => {
    parseEnv({ NODE_ENV: 'development' });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('JWT_SECRET'));
  });

  test('with JWT_SECRET set, it is used and nothing is warned', () => {
    const secret = 'a-real-secret-of-more-than-32-characters';
    expect(parseEnv({ JWT_SECRET: secret }).JWT_SECRET).toBe(secret);
    expect(warn).not.toHaveBeenCalled();
  });

  test('production without JWT_SECRET is refused with an error naming JWT_SECRET', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: JWT_SECRET is required when NODE_ENV=production/);
  });

  test('production with a JWT_SECRET is accepted', () => {
    const config = parseEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) });
    expect(config.NODE_ENV).toBe('production');
  });

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['JWT_SECRET', 'too-short'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'not a url'],
    ['NODE_ENV', 'staging'],
    ['TOKEN_TTL_SECONDS', '10'],
    ['BODY_LIMIT', 'lots'],
    ['RATE_LOGIN_FAILURES', '0'],
    ['RATE_PUSH_PER_MINUTE', '1.5'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'xml'],
    ['METRICS_TOKEN', 'short'],
  ])('a bad %s (%p) stops the start with an error naming that field', (field, value) => {
    expect(() => parseEnv({ [field]: value })).toThrow(new RegExp(`Invalid configuration:\\n(.*\\n)*  ${field}: `));
  });

  test('several bad values are all named at once', () => {
    expect(() => parseEnv({ PORT: 'abc', NODE_ENV: 'staging' })).toThrow(/NODE_ENV[\s\S]*PORT|PORT[\s\S]*NODE_ENV/);
  });

  test('numbers come from strings', () => {
    expect(parseEnv({ PORT: '8080', RATE_PUSH_PER_MINUTE: '7' })).toMatchObject({ PORT: 8080, RATE_PUSH_PER_MINUTE: 7 });
  });

  test.each(['postgres://u:p@db:5432/sems', 'postgresql://localhost/sems'])('DATABASE_URL %s selects PostgreSQL', (url) => {
    expect(parseEnv({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  test('a variable set to an empty string counts as unset, so PORT= does not become port 0 (a random port)', () => {
    const config = parseEnv({ PORT: '', DATABASE_URL: '', JWT_SECRET: '', RATE_PUSH_PER_MINUTE: '' });
    expect(config).toMatchObject({ PORT: 3000, RATE_PUSH_PER_MINUTE: 120 });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  test('without TLS files the server is plain http, with no redirect port', () => {
    const config = parseEnv({});
    expect(config.TLS_CERT_FILE).toBeUndefined();
    expect(config.TLS_KEY_FILE).toBeUndefined();
    expect(config.HTTP_REDIRECT_PORT).toBeUndefined();
  });

  test('TLS_CERT_FILE and TLS_KEY_FILE together, with a redirect port, are accepted as given', () => {
    const config = parseEnv({ TLS_CERT_FILE: '/etc/sems/cert.pem', TLS_KEY_FILE: '/etc/sems/key.pem', HTTP_REDIRECT_PORT: '8080' });
    expect(config).toMatchObject({ TLS_CERT_FILE: '/etc/sems/cert.pem', TLS_KEY_FILE: '/etc/sems/key.pem', HTTP_REDIRECT_PORT: 8080 });
  });

  test('TLS_CERT_FILE without TLS_KEY_FILE is refused with an error naming the missing key', () => {
    expect(() => parseEnv({ TLS_CERT_FILE: '/etc/sems/cert.pem' })).toThrow(/ {2}TLS_KEY_FILE: TLS_KEY_FILE is required with TLS_CERT_FILE/);
  });

  test('TLS_KEY_FILE without TLS_CERT_FILE is refused with an error naming the missing certificate', () => {
    expect(() => parseEnv({ TLS_KEY_FILE: '/etc/sems/key.pem' })).toThrow(/ {2}TLS_CERT_FILE: TLS_CERT_FILE is required with TLS_KEY_FILE/);
  });

  test('HTTP_REDIRECT_PORT without TLS is refused: there is no https to redirect to', () => {
    expect(() => parseEnv({ HTTP_REDIRECT_PORT: '8080' })).toThrow(/ {2}HTTP_REDIRECT_PORT: .*needs TLS_CERT_FILE and TLS_KEY_FILE/);
  });

  test('HTTP_REDIRECT_PORT equal to PORT is refused', () => {
    const tls = { TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' };
    expect(() => parseEnv({ ...tls, PORT: '8443', HTTP_REDIRECT_PORT: '8443' })).toThrow(/HTTP_REDIRECT_PORT must differ from PORT/);
  });

  test.each(['abc', '70000'])('a bad HTTP_REDIRECT_PORT (%p) stops the start with an error naming it', (value) => {
    expect(() => parseEnv({ TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem', HTTP_REDIRECT_PORT: value })).toThrow(/ {2}HTTP_REDIRECT_PORT: /);
  });

  test('TLS variables set to empty strings count as unset: plain http', () => {
    const config = parseEnv({ TLS_CERT_FILE: '', TLS_KEY_FILE: '', HTTP_REDIRECT_PORT: '' });
    expect(config.TLS_CERT_FILE).toBeUndefined();
    expect(config.HTTP_REDIRECT_PORT).toBeUndefined();
  });

  test('production with JWT_SECRET set to an empty string is refused like an unset one', () => {
    expect(() => parseEnv({ NODE_ENV: 'production', JWT_SECRET: '' })).toThrow(/JWT_SECRET is required when NODE_ENV=production/);
  });

  test('offline sign-in is allowed for 7 days by default; OFFLINE_SIGN_IN_DAYS=0 turns it off, a negative value is refused', () => {
    expect(parseEnv({}).OFFLINE_SIGN_IN_DAYS).toBe(7);
    expect(parseEnv({ OFFLINE_SIGN_IN_DAYS: '0' }).OFFLINE_SIGN_IN_DAYS).toBe(0);
    expect(() => parseEnv({ OFFLINE_SIGN_IN_DAYS: '-1' })).toThrow(/ {2}OFFLINE_SIGN_IN_DAYS: /);
  });

  test('a device pulls 90 days and duplicates are looked for within 24 hours by default; a window of 0 is refused', () => {
    expect(parseEnv({})).toMatchObject({ PULL_WINDOW_DAYS: 90, DUPLICATE_WINDOW_HOURS: 24 });
    expect(parseEnv({ PULL_WINDOW_DAYS: '30', DUPLICATE_WINDOW_HOURS: '48' })).toMatchObject({ PULL_WINDOW_DAYS: 30, DUPLICATE_WINDOW_HOURS: 48 });
    expect(() => parseEnv({ PULL_WINDOW_DAYS: '0', DUPLICATE_WINDOW_HOURS: '0' })).toThrow(/ {2}PULL_WINDOW_DAYS: .*\n {2}DUPLICATE_WINDOW_HOURS: /s);
  });
});
