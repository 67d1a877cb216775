/**
 * The test command's set-up (test/setup.sh) on a machine that lacks something: as a user other
 * than root it names what is missing and the one command that installs it, and runs nothing else.
 * A missing program is simulated by naming a path that does not exist.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../setup.sh');

function setup(env: Record<string, string>) {
  const r = spawnSync('bash', [SCRIPT], { env: { ...process.env, SKIP_BROWSERS: '', SEMS_SETUP_UID: '1000', ...env }, encoding: 'utf8' });
  return { status: r.status, err: r.stderr };
}

describe('the test set-up on a machine without a program the tests need', () => {
  test('without Chromium, a user other than root is told the package and the command, and it stops', () => {
    const r = setup({ SEMS_NEED_CHROMIUM: '/nonexistent/chromium' });
    expect(r.status).toBe(1);
    expect(r.err).toContain('missing: chromium');
    expect(r.err).toContain("sudo sh -c 'apt-get update && apt-get install -y chromium'");
    expect(r.err).toContain('SKIP_BROWSERS=1');
  });

  test('without PgBouncer and Firefox, both are named in one command', () => {
    const r = setup({ SEMS_NEED_PGBOUNCER: '/nonexistent/pgbouncer', SEMS_NEED_FIREFOX: '/nonexistent/firefox-esr' });
    expect(r.status).toBe(1);
    expect(r.err).toContain('apt-get install -y firefox-esr pgbouncer');
  });

  test('without promtool, the prometheus package that has it is named', () => {
    const r = setup({ SEMS_NEED_PROMTOOL: '/nonexistent/promtool' });
    expect(r.status).toBe(1);
    expect(r.err).toContain('apt-get install -y prometheus');
  });

  test('with SKIP_BROWSERS=1 a missing browser is no reason to stop, and the skip is said', () => {
    const r = setup({ SKIP_BROWSERS: '1', SEMS_NEED_CHROMIUM: '/nonexistent/chromium', SEMS_NEED_FIREFOX: '/nonexistent/firefox-esr' });
    expect(r.err).toContain('SKIP_BROWSERS=1: the end-to-end suites in Chromium and Firefox are skipped');
    expect(r.status).toBe(0);
  });

  test('a TEST_DATABASE_URL server that does not answer is named, not installed', () => {
    const r = setup({ TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' });
    expect(r.status).toBe(1);
    expect(r.err).toContain('does not answer on 127.0.0.1:1');
  });
});
