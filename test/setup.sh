#!/usr/bin/env bash
# What the tests need of the machine, found or installed before anything runs: a PostgreSQL
# server on 127.0.0.1:5432 (or TEST_DATABASE_URL), Debian's Chromium and Firefox ESR for the
# end-to-end tests, PgBouncer for the pooling suite, openssl for the HTTPS tests, promtool (Debian's
# prometheus package) for deploy/'s Prometheus files. As root on
# Debian or Ubuntu it installs what is missing with apt-get; as another user it stops at once and
# names the one command to run. SKIP_BROWSERS=1 leaves the browsers out (their suites are then
# reported as skipped). `npm test` and .ci/run both call it.
#
# Each program's path can be named in the environment (SEMS_NEED_CHROMIUM=…), which is how
# test/server/setup.test.ts shows what it says when one is missing.
set -uo pipefail

chromium=${SEMS_NEED_CHROMIUM:-/usr/bin/chromium}
firefox=${SEMS_NEED_FIREFOX:-/usr/bin/firefox-esr}
pgbouncer=${SEMS_NEED_PGBOUNCER:-/usr/sbin/pgbouncer}
openssl_bin=${SEMS_NEED_OPENSSL:-openssl}
promtool=${SEMS_NEED_PROMTOOL:-promtool}
uid=${SEMS_SETUP_UID:-$(id -u)}
skip_browsers=${SKIP_BROWSERS:-}

say() { printf 'test setup: %s\n' "$*" >&2; }
have() { if [[ $1 == /* ]]; then [ -x "$1" ]; else command -v "$1" >/dev/null 2>&1; fi; }

# The database the tests reach (TEST_DATABASE_URL's host and port, or the local default).
db_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db_host=$(printf '%s' "$db_url" | sed -E 's#^[a-z]+://([^@/]*@)?([^:/?]+).*#\2#')
db_port=$(printf '%s' "$db_url" | sed -nE 's#^[a-z]+://([^@/]*@)?[^:/?]+:([0-9]+).*#\2#p')
db_port=${db_port:-5432}
db_up() { have pg_isready && pg_isready -q -h "$db_host" -p "$db_port"; }

missing=() # Debian packages to install
[ -n "$skip_browsers" ] || { have "$chromium" || missing+=(chromium); }
[ -n "$skip_browsers" ] || { have "$firefox" || missing+=(firefox-esr); }
have "$pgbouncer" || missing+=(pgbouncer)
have "$openssl_bin" || missing+=(openssl)
have "$promtool" || missing+=(prometheus) # promtool checks deploy/'s Prometheus config and alert rules
have pg_isready || missing+=(postgresql-client)
local_db=false
[[ -z ${TEST_DATABASE_URL:-} ]] && local_db=true
# A local server the tests may start (or install) themselves; a TEST_DATABASE_URL server is the user's.
if $local_db && ! db_up && ! have pg_ctlcluster; then missing+=(postgresql); fi

if [ ${#missing[@]} -gt 0 ]; then
  install="apt-get update && apt-get install -y ${missing[*]}"
  if [ "$uid" != 0 ]; then
    say "missing: ${missing[*]}"
    say "run this once as root, then npm test again:"
    say "  sudo sh -c '$install'"
    [ -n "$skip_browsers" ] || say "(or SKIP_BROWSERS=1 npm test to leave out the browser suites)"
    exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    say "could not install ${missing[*]}; run: $install"
    exit 1
  fi
fi

# A local PostgreSQL that is installed but down is started, the way the machine's own service would.
if $local_db && ! db_up; then
  if [ "$uid" != 0 ]; then
    say "PostgreSQL is not answering on $db_host:$db_port; start it: sudo pg_ctlcluster \$(ls /etc/postgresql) main start"
    exit 1
  fi
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    say "PostgreSQL is installed but has no cluster: pg_createcluster --start \$(ls /usr/lib/postgresql) main"
    exit 1
  fi
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # A new cluster asks a password on 127.0.0.1; the tests sign in as postgres with none (trust on loopback only).
  if [ -f "$hba" ] && ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    say "allowing the postgres user on 127.0.0.1 without a password (trust, loopback only) in $hba"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do db_up && break; sleep 1; done
fi
if ! db_up; then
  say "PostgreSQL does not answer on $db_host:$db_port (TEST_DATABASE_URL names another server)"
  exit 1
fi
[ -n "$skip_browsers" ] && say "SKIP_BROWSERS=1: the end-to-end suites in Chromium and Firefox are skipped"
exit 0
